#!/usr/bin/env python3
"""costroute against scikit-learn, side by side, in one run on one machine.

Usage: bench/compare_sklearn.py COSTROUTE_BINARY SHARED_DIR [--quick]

Both systems score the same model: scikit-learn's default recipe
(TfidfVectorizer(max_features=5000, ngram_range=(1, 2)) +
LogisticRegression()) fitted on every real routing prompt, and exported to
costroute with tools/export_sklearn.py. Measured, each in its own process
so that peak memory is its own:

* one query at a time: p50 and p99 latency (scikit-learn:
  pipeline.predict_proba([query]); costroute: `costroute bench`);
* batch throughput on one thread (predict_proba on the whole list;
  `costroute bench` batch_qps);
* training on 100k queries (the real and the parity queries, cycled to
  100,000): wall time and peak RSS of `costroute train` and of
  scikit-learn's fit;
* 5-fold cross-validated scores of MMLU's 14,042 prompts on both cores:
  wall time of `costroute eval --cv 5` (which also sweeps the thresholds
  and bootstraps APGR 1,000 times) and of scikit-learn's
  cross_val_predict(n_jobs=2) on stratified folds.

Prints a Markdown table with the ratios, for bench/README.md.
"""

import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "tools", "export_sklearn.py")
ROUTING = ["routellm_mmlu", "routellm_gsm8k", "routellm_mt_bench", "arena_bench_v1"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def read_jsonl(path, label="label_small_ok"):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [r["query"] for r in rows], [r.get(label, r.get("label")) for r in rows]


def run_child(args):
    """Runs a child process and returns its standard output."""
    out = subprocess.run(args, capture_output=True, env=ENV, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args[:3])} failed: {out.stderr.strip()}")
    return out.stdout


# ---- children: each runs in its own process ------------------------------------------------

def child_fit(data_path, model_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    queries, labels = read_jsonl(data_path)
    start = time.perf_counter()
    pipeline = Pipeline([("tfidf", TfidfVectorizer(max_features=5000, ngram_range=(1, 2))),
                         ("lr", LogisticRegression())]).fit(queries, labels)
    seconds = time.perf_counter() - start
    with open(model_path, "wb") as f:
        pickle.dump(pipeline, f)
    print(json.dumps({"seconds": seconds, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def child_score(model_path, data_path, max_single):
    with open(model_path, "rb") as f:
        pipeline = pickle.load(f)
    queries, _ = read_jsonl(data_path)
    for q in queries[:200]:  # warm up
        pipeline.predict_proba([q])
    samples = []
    for q in queries[:max_single]:
        t0 = time.perf_counter_ns()
        pipeline.predict_proba([q])
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    start = time.perf_counter()
    pipeline.predict_proba(queries)
    batch = time.perf_counter() - start
    print(json.dumps({
        "p50_ns": samples[len(samples) // 2], "p99_ns": samples[int(len(samples) * 0.99)],
        "batch_qps": len(queries) / batch, "single_samples": len(samples),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def child_cv(data_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline
    queries, labels = read_jsonl(data_path)
    start = time.perf_counter()
    pipeline = Pipeline([("tfidf", TfidfVectorizer(max_features=5000, ngram_range=(1, 2))),
                         ("lr", LogisticRegression())])
    cross_val_predict(pipeline, queries, labels, cv=StratifiedKFold(5, shuffle=True, random_state=1),
                      method="predict_proba", n_jobs=2)
    print(json.dumps({"seconds": time.perf_counter() - start}))


def timed(args):
    """Runs a costroute command; returns its standard output, wall seconds and peak RSS in bytes."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        sys.exit(f"costroute {args[1]} failed")
    return out, seconds, usage.ru_maxrss * 1024


# ---- the comparison ------------------------------------------------------------------------

def main():
    if sys.argv[1] == "--child-fit":
        return child_fit(*sys.argv[2:4])
    if sys.argv[1] == "--child-score":
        return child_score(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    if sys.argv[1] == "--child-cv":
        return child_cv(sys.argv[2])
    binary, shared = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    me = [sys.executable, os.path.abspath(__file__)]
    routing = [os.path.join(shared, "data", "routing", n + ".jsonl") for n in ROUTING]
    parity = [os.path.join(shared, "parity", n + ".jsonl") for n in ("train_10k", "heldout_5k")]
    with tempfile.TemporaryDirectory() as tmp:
        real = os.path.join(tmp, "real.jsonl")
        with open(real, "w", encoding="utf-8") as f:
            for path in routing:
                f.writelines(open(path, encoding="utf-8"))
        median = os.path.join(tmp, "median.jsonl")  # the middle fifth by length
        lines = sorted(open(real, encoding="utf-8"), key=lambda l: len(json.loads(l)["query"].encode()))
        open(median, "w", encoding="utf-8").writelines(lines[2 * len(lines) // 5: 3 * len(lines) // 5])
        sets = {"real (all 15,734 routing prompts)": real,
                "real, median fifth by length": median,
                "generated (parity held-out 5k)": parity[1]}

        pkl, model = os.path.join(tmp, "sk.pkl"), os.path.join(tmp, "model.json")
        run_child(me + ["--child-fit", real, pkl])
        subprocess.run([sys.executable, EXPORTER, pkl, model], check=True, capture_output=True)

        rows = []
        for name, path in sets.items():
            sk = json.loads(run_child(me + ["--child-score", pkl, path, "2000" if quick else "20000"]))
            cr = json.loads(run_child([binary, "bench", "--model", model, "--data", path,
                                       "--min-seconds", "1" if quick else "4"]))
            rows.append((name, cr, sk))

        # Training on 100k queries.
        pool = []
        for path in routing:
            q, y = read_jsonl(path)
            pool += zip(q, y)
        for path in parity:
            q, y = read_jsonl(path, "label")
            pool += zip(q, y)
        big = os.path.join(tmp, "train_100k.jsonl")
        with open(big, "w", encoding="utf-8") as f:
            for i in range(100_000):
                q, y = pool[i % len(pool)]
                f.write(json.dumps({"query": q, "label_small_ok": y}) + "\n")
        sk_train = json.loads(run_child(me + ["--child-fit", big, os.path.join(tmp, "big.pkl")]))
        out, cr_train_seconds, cr_train_rss = timed([binary, "train", "--data", big,
                                                     "--out", os.path.join(tmp, "big.json")])
        cr_train = json.loads(out)

        # Cross validation on MMLU, both cores.
        sk_cv = json.loads(run_child(me + ["--child-cv", routing[0]]))
        _, cr_cv_seconds, _ = timed([binary, "eval", "--cv", "5", "--data", routing[0], "--json"])

    print("| queries | measure | costroute | scikit-learn | ratio |")
    print("|---|---|---:|---:|---:|")
    for name, cr, sk in rows:
        print(f"| {name} | one query p50 | {cr['p50_ns'] / 1000:.2f} µs | {sk['p50_ns'] / 1000:.0f} µs "
              f"| **{sk['p50_ns'] / cr['p50_ns']:.0f}×** faster |")
        print(f"| | one query p99 | {cr['p99_ns'] / 1000:.2f} µs | {sk['p99_ns'] / 1000:.0f} µs "
              f"| {sk['p99_ns'] / cr['p99_ns']:.0f}× |")
        print(f"| | batch, one thread | {cr['batch_qps'] / 1000:.0f}k q/s | {sk['batch_qps'] / 1000:.1f}k q/s "
              f"| {cr['batch_qps'] / sk['batch_qps']:.0f}× |")
        print(f"| | peak RSS | {cr['peak_rss_bytes'] / 2**20:.0f} MiB | {sk['peak_rss_bytes'] / 2**20:.0f} MiB "
              f"| {sk['peak_rss_bytes'] / cr['peak_rss_bytes']:.1f}× less |")
    print(f"| 100k training queries | fit, wall time | {cr_train_seconds:.2f} s "
          f"({cr_train['iterations']} L-BFGS iterations, to the optimum) | {sk_train['seconds']:.2f} s "
          f"(default early stop) | {sk_train['seconds'] / cr_train_seconds:.1f}× faster |")
    print(f"| | peak RSS | {cr_train_rss / 2**20:.0f} MiB | {sk_train['peak_rss_bytes'] / 2**20:.0f} MiB "
          f"| {sk_train['peak_rss_bytes'] / cr_train_rss:.1f}× less |")
    print(f"| MMLU, 5-fold cross validation, both cores | wall time | {cr_cv_seconds:.2f} s (`eval --cv 5`) "
          f"| {sk_cv['seconds']:.2f} s (cross_val_predict) | {sk_cv['seconds'] / cr_cv_seconds:.1f}× faster |")


if __name__ == "__main__":
    main()
