#!/usr/bin/env python3
"""scikit-learn parity: costroute must score exactly as scikit-learn does.

Usage: sklearn_parity.py COSTROUTE_BINARY SHARED_DIR

1. Tokens: `costroute tokenize` against TfidfVectorizer's analyzer on both
   parity corpora, the real routing sets, and every assigned code point of
   Python's Unicode database in several contexts.
2. Scores: for several TfidfVectorizer + LogisticRegression configurations,
   fit scikit-learn, export with tools/export_sklearn.py, score with
   `costroute score`, and require every probability to equal
   predict_proba(...)[:, 1] bit for bit.

Exits non-zero on the first configuration that differs, printing examples.
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import unicodedata
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "..", "tools", "export_sklearn.py")


def read_jsonl(path, label="label"):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [r["query"] for r in rows], [r.get(label, r.get("label_small_ok")) for r in rows]


def write_queries(path, queries):
    with open(path, "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps({"query": q}) + "\n")


def run_costroute(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"costroute {' '.join(args)} failed: {out.stderr.strip()}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def code_point_strings():
    """Every assigned code point in contexts that exercise \\w, lower() and final sigma."""
    texts = []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        if unicodedata.category(ch) == "Cn":
            continue
        texts.append(f"ab{ch}cd {ch}{ch} x{ch} \u0391\u03a3{ch} \u03a3{ch}\u03b2 {ch}\u03a3 {ch.upper()}{ch}")
    return texts


def check_tokens(binary, tmp, name, queries):
    analyzer = TfidfVectorizer().build_analyzer()
    path = os.path.join(tmp, "tokens.jsonl")
    write_queries(path, queries)
    got = run_costroute(binary, "tokenize", "--data", path)
    bad = [(q, analyzer(q), g["tokens"]) for q, g in zip(queries, got) if analyzer(q) != g["tokens"]]
    if len(got) != len(queries) or bad:
        for q, want, have in bad[:5]:
            print(f"  {q!r}\n    sklearn:   {want}\n    costroute: {have}")
        sys.exit(f"tokens differ on {name}: {len(bad)} of {len(queries)}")
    print(f"tokens equal on {name}: {len(queries)} texts")


def check_scores(binary, tmp, name, vectorizer, train, test):
    pipeline = Pipeline([("tfidf", vectorizer), ("lr", LogisticRegression())])
    pipeline.fit(*train)
    pkl = os.path.join(tmp, "pipeline.pkl")
    model = os.path.join(tmp, "model.json")
    with open(pkl, "wb") as f:
        pickle.dump(pipeline, f)
    subprocess.run([sys.executable, EXPORTER, pkl, model], check=True, capture_output=True)
    queries = test[0]
    want = pipeline.predict_proba(queries)[:, 1]
    data = os.path.join(tmp, "score.jsonl")
    write_queries(data, queries)
    got = np.array([r["p_small_ok"] for r in run_costroute(binary, "score", "--model", model, "--data", data)])
    differ = np.flatnonzero(got.view(np.uint64) != want.view(np.uint64))
    if len(got) != len(want) or len(differ):
        for i in differ[:5]:
            print(f"  {queries[i][:80]!r}: sklearn {want[i]!r} costroute {got[i]!r}")
        sys.exit(f"scores differ for {name}: {len(differ)} of {len(want)}")
    print(f"scores bit-identical for {name}: {len(want)} queries")


def main():
    warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning on some configurations
    binary, shared = sys.argv[1], sys.argv[2]
    parity = os.path.join(shared, "parity")
    routing = os.path.join(shared, "data", "routing")
    train = read_jsonl(os.path.join(parity, "train_10k.jsonl"))
    heldout = read_jsonl(os.path.join(parity, "heldout_5k.jsonl"))
    real = {name: read_jsonl(os.path.join(routing, name + ".jsonl"), "label_small_ok")
            for name in ("routellm_mmlu", "routellm_gsm8k", "routellm_mt_bench", "arena_bench_v1")}
    with tempfile.TemporaryDirectory() as tmp:
        check_tokens(binary, tmp, "parity corpora", train[0] + heldout[0])
        check_tokens(binary, tmp, "real routing sets", sum((v[0] for v in real.values()), []))
        check_tokens(binary, tmp, "every code point", code_point_strings())

        both = (train[0] + heldout[0], train[1] + heldout[1])
        configurations = [
            ("default recipe (5000 features, 1-2 grams)",
             TfidfVectorizer(max_features=5000, ngram_range=(1, 2)), train, both),
            ("no feature limit, 1-3 grams, min_df=2, max_df=0.5",
             TfidfVectorizer(ngram_range=(1, 3), min_df=2, max_df=0.5), train, both),
            ("binary, l1 norm, no smoothing",
             TfidfVectorizer(binary=True, norm="l1", smooth_idf=False, max_features=3000), train, both),
            ("no idf, no norm, case kept",
             TfidfVectorizer(use_idf=False, norm=None, lowercase=False), train, both),
            ("bigrams only", TfidfVectorizer(ngram_range=(2, 2), max_features=2000), train, both),
            ("sublinear tf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)), train, both),
        ]
        # Character n-grams: every code point lowercased and kept (1-grams;
        # longer ones over all code points make millions of terms), then
        # Python's whitespace, final sigma and dotted capital I in context.
        strings = code_point_strings()
        cps = [" ".join(strings[i:i + 40]) for i in range(0, len(strings), 40)]
        cps_data = (cps, [i % 2 for i in range(len(cps))])
        spaces = ["a\x1cb\x1dc d\x85e\xa0f\u3000g\u2028h", "two  spaces\n\tand\u2003\u2003more", " x ", "\u3000",
                  "İstanbul ΟΔΟΣ Σ ΑΣ. a", "ab\ncd\n\ncd", "", "\x0b\x0c\r\n", "ΣΑΣ ΑΣ' ΑΣ\u0301 ΑΣA"]
        mixed = (train[0][:2000] + spaces * 20, train[1][:2000] + [i % 2 for i in range(len(spaces) * 20)])
        configurations += [
            ("char_wb 1-4 grams", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4)), train, both),
            ("char 2-5 grams, 20000 features, sublinear tf",
             TfidfVectorizer(analyzer="char", ngram_range=(2, 5), max_features=20000, sublinear_tf=True), train, both),
            ("char_wb 1-grams, every code point", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 1)),
             cps_data, cps_data),
            ("char 1-grams, case kept, every code point",
             TfidfVectorizer(analyzer="char", ngram_range=(1, 1), lowercase=False), cps_data, cps_data),
            ("char 1-3 grams, whitespace and casing", TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), mixed, mixed),
            ("char_wb 2-4 grams, whitespace and casing", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)),
             mixed, mixed),
        ]
        mmlu = real["routellm_mmlu"]
        others = (sum((v[0] for k, v in real.items() if k != "routellm_mmlu"), []), None)
        configurations.append(("real data: trained on MMLU, scored on GSM8K, MT-Bench, Arena",
                               TfidfVectorizer(max_features=5000, ngram_range=(1, 2)), mmlu, others))
        for name, vectorizer, fit_on, score_on in configurations:
            check_scores(binary, tmp, name, vectorizer, fit_on, score_on)


if __name__ == "__main__":
    main()
