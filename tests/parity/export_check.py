#!/usr/bin/env python3
"""tools/export_sklearn.py: output files, refusals and numpy-typed settings.

Usage: export_check.py COSTROUTE_BINARY SHARED_DIR

Fits small pipelines on the MT-Bench prompts and generated text, and checks
that the exporter

1. writes OUT as costroute's commands write their files (docs/cli.md):
   replaced whole, keeping an existing file's permissions; through a
   symbolic link, which stays a link; into a FIFO, which stays a FIFO; and
   refuses "", "-", a directory and the input pickle (by any path or link),
   and survives a failed write, each time with exit 1, one line on stderr,
   the old file unchanged and no temporary file left;
2. refuses a fixed vocabulary with a term that does not fit ngram_range
   (costroute's loader refuses those) and exports one whose terms fit;
3. exports numpy-typed settings (min_df=np.int64(2), ...) into a model that
   `costroute score` reads and scores exactly as predict_proba;
4. reports a bad pickle or a broken object in one line, without a traceback.

Exits non-zero on the first failure.
"""

import json
import os
import pickle
import random
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "..", "tools", "export_sklearn.py")

checks = 0  # checks passed, for the summary line


def fail(message):
    sys.exit(f"export_check: FAILED: {message}")


def passed():
    global checks
    checks += 1


def training_data(shared):
    """The MT-Bench prompts and 220 generated ones from their words, with labels."""
    rows = [json.loads(line) for line in
            open(os.path.join(shared, "data", "routing", "routellm_mt_bench.jsonl"), encoding="utf-8")
            if line.strip()]
    queries = [r["query"] for r in rows]
    labels = [r["label_small_ok"] for r in rows]
    words = sorted({w for q in queries for w in q.split()})
    rng = random.Random(20240)
    for _ in range(220):
        chosen = [rng.choice(words) for _ in range(rng.randint(3, 25))]
        queries.append(" ".join(chosen))
        labels.append(int(len(chosen) < 12 or rng.random() < 0.2))
    return queries, labels


def write_queries(path, queries):
    with open(path, "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps({"query": q}) + "\n")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def fit_and_save(path, vectorizer, queries, labels, classifier=None):
    pipeline = Pipeline([("tfidf", vectorizer), ("lr", classifier or LogisticRegression())])
    pipeline.fit(queries, labels)
    with open(path, "wb") as f:
        pickle.dump(pipeline, f)
    return pipeline


def export(pkl, out, cwd=None, preexec_fn=None):
    return subprocess.run([sys.executable, EXPORTER, pkl, out], capture_output=True, text=True,
                          cwd=cwd, preexec_fn=preexec_fn, timeout=300)


def listing(directory):
    return sorted(os.listdir(directory))


def one_line(name, result):
    """Requires exactly one line on stderr and nothing on stdout."""
    if result.stderr.count("\n") != 1 or not result.stderr.endswith("\n") or "Traceback" in result.stderr:
        fail(f"{name}: expected one line on stderr, got {result.stderr!r}")
    if result.stdout:
        fail(f"{name}: expected nothing on stdout, got {result.stdout!r}")


def expect_export(name, pkl, out, **kwargs):
    result = export(pkl, out, **kwargs)
    if result.returncode != 0:
        fail(f"{name}: exit {result.returncode}, expected 0: {result.stderr.strip()}")
    one_line(name, result)
    if not result.stderr.startswith(f"export_sklearn: wrote {out}: "):
        fail(f"{name}: unexpected message {result.stderr!r}")
    return result


def expect_refusal(name, pkl, out, message, watch, old=None, exact=True, **kwargs):
    """Runs the exporter; requires exit 1, one line on stderr equal to
    `message` (or holding it, if not exact), the file `old` unchanged and
    the directories in `watch` holding the same files as before."""
    before = {d: listing(d) for d in watch}
    old_bytes = read_bytes(old) if old else None
    old_mode = os.stat(old).st_mode if old else None
    result = export(pkl, out, **kwargs)
    if result.returncode != 1:
        fail(f"{name}: exit {result.returncode}, expected 1 (stderr: {result.stderr.strip()!r})")
    one_line(name, result)
    line = result.stderr.rstrip("\n")
    if (line != message) if exact else (message not in line):
        fail(f"{name}: expected the message {message!r}, got {line!r}")
    if old and (read_bytes(old) != old_bytes or os.stat(old).st_mode != old_mode):
        fail(f"{name}: {old} was changed")
    for d, files in before.items():
        if listing(d) != files:
            fail(f"{name}: files in {d} changed: {sorted(set(files) ^ set(listing(d)))}")
    passed()


def scores(binary, model, data):
    out = subprocess.run([binary, "score", "--model", model, "--data", data], capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"costroute score --model {model} failed: {out.stderr.strip()}")
    return [json.loads(line)["p_small_ok"] for line in out.stdout.splitlines()]


def expect_same_scores(name, binary, pipeline, model, queries, data):
    want = pipeline.predict_proba(queries)[:, 1]
    got = scores(binary, model, data)
    if len(got) != len(want):
        fail(f"{name}: costroute gave {len(got)} scores for {len(want)} queries")
    differ = [i for i in range(len(want)) if float(got[i]) != float(want[i])]
    if differ:
        i = differ[0]
        fail(f"{name}: {len(differ)} of {len(want)} scores differ, e.g. {queries[i][:60]!r}: "
             f"sklearn {float(want[i])!r} costroute {float(got[i])!r}")
    passed()


def read_fifo(path, into):
    with open(path, "rb") as f:
        into.append(f.read())


def check_output_files(tmp, good_pkl, reference):
    """Part 1: how OUT is written, and which OUTs are refused."""
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    model = os.path.join(out, "model.json")

    # A new file: 0666 less the umask, as the C++ commands make it.
    umask = os.umask(0)
    os.umask(umask)
    expect_export("new file", good_pkl, model)
    if read_bytes(model) != reference or stat.S_IMODE(os.stat(model).st_mode) != 0o666 & ~umask:
        fail(f"new file: wrong content or mode {oct(os.stat(model).st_mode)}")
    if listing(out) != ["model.json"]:
        fail(f"new file: files left beside it: {listing(out)}")
    passed()

    # An existing file is replaced, keeping its permissions (read-only too).
    for mode in (0o640, 0o444, 0o604):
        write_bytes(model, b"old model\n")
        os.chmod(model, mode)
        expect_export(f"existing file {oct(mode)}", good_pkl, model)
        if read_bytes(model) != reference or stat.S_IMODE(os.stat(model).st_mode) != mode:
            fail(f"existing file {oct(mode)}: wrong content or mode {oct(os.stat(model).st_mode)}")
        if listing(out) != ["model.json"]:
            fail(f"existing file {oct(mode)}: files left beside it: {listing(out)}")
        passed()
    os.chmod(model, 0o644)

    # Symbolic links are followed: the file named is replaced, the link stays.
    real = os.path.join(out, "real")
    os.makedirs(real)
    target = os.path.join(real, "target.json")
    write_bytes(target, b"old target\n")
    os.chmod(target, 0o640)
    link = os.path.join(out, "link.json")
    os.symlink("real/target.json", link)  # relative to the link's directory
    chain = os.path.join(out, "chain.json")
    os.symlink(os.path.abspath(link), chain)  # absolute, to another link
    for name, path in (("symbolic link", link), ("chain of links", chain)):
        write_bytes(target, b"old target\n")
        expect_export(name, good_pkl, path)
        if not os.path.islink(link) or os.readlink(link) != "real/target.json" or not os.path.islink(chain):
            fail(f"{name}: the link was replaced")
        if read_bytes(target) != reference or stat.S_IMODE(os.stat(target).st_mode) != 0o640:
            fail(f"{name}: the link's target was not replaced, or lost its permissions")
        if listing(out) != ["chain.json", "link.json", "model.json", "real"] or listing(real) != ["target.json"]:
            fail(f"{name}: files left: {listing(out)} {listing(real)}")
        passed()
    # A link to a file not there yet makes that file.
    dangling = os.path.join(out, "dangling.json")
    os.symlink("real/new.json", dangling)
    expect_export("link to a new file", good_pkl, dangling)
    if not os.path.islink(dangling) or read_bytes(os.path.join(real, "new.json")) != reference:
        fail("link to a new file: the link was replaced or its file not written")
    if listing(real) != ["new.json", "target.json"]:
        fail(f"link to a new file: files left: {listing(real)}")
    passed()

    # A FIFO is written into, not replaced.
    fifo = os.path.join(out, "pipe")
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=read_fifo, args=(fifo, received), daemon=True)
    reader.start()
    result = export(good_pkl, fifo)
    if reader.is_alive() and result.returncode != 0:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # free the reader: nothing was written
    reader.join(60)
    if result.returncode != 0:
        fail(f"FIFO: exit {result.returncode}: {result.stderr.strip()}")
    one_line("FIFO", result)
    if received != [reference]:
        fail(f"FIFO: the reader got {len(received[0]) if received else 'no'} bytes, not the model")
    if not stat.S_ISFIFO(os.stat(fifo).st_mode):
        fail("FIFO: replaced by another kind of file")
    if any(name.startswith(".pipe") for name in listing(out)):
        fail(f"FIFO: files left: {listing(out)}")
    passed()

    # Refused before any work, leaving everything as it was.
    write_bytes(model, b"old model\n")
    directory = os.path.join(out, "a_directory")
    os.makedirs(directory)
    expect_refusal("directory as OUT", good_pkl, directory,
                   f"export_sklearn: {directory}: cannot write: Is a directory", [out, directory])
    expect_refusal("link to a directory as OUT", good_pkl, os.path.join(out, "real"),
                   f"export_sklearn: {real}: cannot write: Is a directory", [out, real])
    expect_refusal("empty OUT", good_pkl, "", "export_sklearn: OUT: an empty file name", [out], cwd=out)
    expect_refusal("- as OUT", good_pkl, "-",
                   "export_sklearn: -: give a file name to write (the model is not written to standard output)",
                   [out], cwd=out)
    missing = os.path.join(out, "no_such_directory", "model.json")
    expect_refusal("OUT in a missing directory", good_pkl, missing,
                   f"export_sklearn: {missing}: cannot write: No such file or directory", [out])

    # The input pickle as OUT, by any path or link.
    pkl_dir = os.path.dirname(good_pkl)
    pkl_link = os.path.join(out, "pipeline_link.pkl")
    os.symlink(good_pkl, pkl_link)
    pkl_hard = os.path.join(out, "pipeline_hard.pkl")
    os.link(good_pkl, pkl_hard)
    roundabout = os.path.join(out, "..", os.path.basename(pkl_dir), os.path.basename(good_pkl))
    for name, path in (("the pickle as OUT", good_pkl), ("a link to the pickle as OUT", pkl_link),
                       ("a hard link to the pickle as OUT", pkl_hard), ("the pickle by another path", roundabout)):
        expect_refusal(name, good_pkl, path,
                       f"export_sklearn: {path} is also the input pickle {good_pkl}; not overwriting it",
                       [out, pkl_dir], old=good_pkl)
    expect_refusal("OUT through a link to the pickle", pkl_link, good_pkl,
                   f"export_sklearn: {good_pkl} is also the input pickle {pkl_link}; not overwriting it",
                   [out, pkl_dir], old=good_pkl)
    os.unlink(pkl_link)
    os.unlink(pkl_hard)

    # A write that fails half way (a file size limit: EFBIG) leaves the old
    # file and no temporary one.
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    expect_refusal("failed write", good_pkl, model, f"export_sklearn: {model}: cannot write: File too large",
                   [out], old=model, preexec_fn=limit_file_size)
    return out, model


def main():
    warnings.simplefilter("ignore")  # scikit-learn's ConvergenceWarning, and its fixed-vocabulary warnings
    binary, shared = sys.argv[1], sys.argv[2]
    queries, labels = training_data(shared)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "queries.jsonl")
        write_queries(data, queries)
        pickles = os.path.join(tmp, "pickles")
        os.makedirs(pickles)

        # The reference export: the bytes every other way of writing must deliver.
        good_pkl = os.path.join(pickles, "good.pkl")
        good = fit_and_save(good_pkl, TfidfVectorizer(ngram_range=(1, 2)), queries, labels)
        reference_path = os.path.join(tmp, "reference.json")
        expect_export("reference export", good_pkl, reference_path)
        reference = read_bytes(reference_path)
        expect_same_scores("reference export", binary, good, reference_path, queries, data)

        out, model = check_output_files(tmp, good_pkl, reference)

        # 2. Fixed vocabularies: a term the analyzer cannot produce is refused,
        # as costroute's loader (Vectorizer::create) would refuse it.
        refused = [
            ("word term too long", TfidfVectorizer(vocabulary=["the", "what is the", "write"]),
             'vocabulary[1]: "what is the" is not a term of 1-1 words (ngram_range)'),
            ("word term too short", TfidfVectorizer(ngram_range=(2, 3), vocabulary=["what is", "the", "is the"]),
             'vocabulary[1]: "the" is not a term of 2-3 words (ngram_range)'),
            ("char term too short", TfidfVectorizer(analyzer="char", ngram_range=(2, 3), vocabulary=["th", "the", "e"]),
             'vocabulary[2]: "e" is not a term of 2-3 characters (ngram_range)'),
            ("char_wb term too long",
             TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), vocabulary=["th", " the"]),
             'vocabulary[1]: " the" is not a term of 2-3 characters (ngram_range)'),
            ("more terms than max_features", TfidfVectorizer(vocabulary=["the", "write", "what"], max_features=2),
             "vectorizer.max_features: the vocabulary has 3 terms, more than max_features (2)"),
        ]
        for name, vectorizer, message in refused:
            pkl = os.path.join(pickles, "refused.pkl")
            fit_and_save(pkl, vectorizer, queries, labels)
            write_bytes(model, b"old model\n")
            expect_refusal(name, pkl, model, f"export_sklearn: {pkl}: {message}", [out, pickles],
                           old=model, exact=False)
        # ... and terms that fit are exported, loaded and scored exactly (a
        # char_wb term may be a whole word shorter than the minimum).
        accepted = [
            ("word vocabulary that fits",
             TfidfVectorizer(ngram_range=(1, 3), vocabulary=["the", "what is the", "write"])),
            ("char_wb vocabulary with a short word",
             TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), vocabulary=["a", " a ", "th", " the", "e "])),
        ]
        for name, vectorizer in accepted:
            pkl = os.path.join(pickles, "accepted.pkl")
            pipeline = fit_and_save(pkl, vectorizer, queries, labels)
            expect_export(name, pkl, model)
            expect_same_scores(name, binary, pipeline, model, queries, data)

        # 3. numpy-typed settings: exported as Python numbers with scikit-learn's
        # meaning (an integer counts documents, a float is a fraction).
        typed = [
            ("numpy counts", TfidfVectorizer(min_df=np.int64(2), max_df=np.float64(0.9), max_features=np.int64(300),
                                             ngram_range=(np.int64(1), np.int64(2))),
             LogisticRegression(C=np.float64(2.0)),
             {"min_df": 2, "max_df": 0.9, "max_features": 300, "ngram_range": [1, 2]}),
            ("numpy fractions", TfidfVectorizer(min_df=np.float64(0.01), max_df=np.int64(250),
                                                ngram_range=(np.int32(1), np.int32(3)), analyzer="char_wb"),
             LogisticRegression(C=np.float32(0.5)),
             {"min_df": 0.01, "max_df": 250, "max_features": None, "ngram_range": [1, 3]}),
        ]
        for name, vectorizer, classifier, want in typed:
            pkl = os.path.join(pickles, "typed.pkl")
            pipeline = fit_and_save(pkl, vectorizer, queries, labels, classifier)
            expect_export(name, pkl, model)
            with open(model, encoding="utf-8") as f:
                written = json.load(f)["vectorizer"]
            for key, value in want.items():
                if written[key] != value or type(written[key]) is not type(value):
                    fail(f"{name}: vectorizer.{key} written as {written[key]!r}, expected {value!r}")
            expect_same_scores(name, binary, pipeline, model, queries, data)

        # 4. Bad input: one line naming the problem, never a traceback.
        write_bytes(model, b"old model\n")
        garbage = os.path.join(pickles, "garbage.pkl")
        write_bytes(garbage, b"this is not a pickle\n")
        expect_refusal("not a pickle", garbage, model, f"export_sklearn: {garbage}: not a readable pickle: ",
                       [out, pickles], old=model, exact=False)
        broken = os.path.join(pickles, "broken.pkl")
        classifier = LogisticRegression().fit(good.named_steps["tfidf"].transform(queries), labels)
        classifier.coef_ = "not an array"
        with open(broken, "wb") as f:
            pickle.dump((good.named_steps["tfidf"], classifier), f)
        expect_refusal("broken classifier", broken, model, f"export_sklearn: {broken}: cannot export: AttributeError: ",
                       [out, pickles], old=model, exact=False)
        expect_refusal("missing pickle", os.path.join(pickles, "none.pkl"), model,
                       f"export_sklearn: {os.path.join(pickles, 'none.pkl')}: cannot open: No such file or directory",
                       [out, pickles], old=model)
    print(f"export_check: {checks} checks passed (output files, vocabulary refusals, numpy settings, bad input)")


if __name__ == "__main__":
    main()
