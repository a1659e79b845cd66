#!/usr/bin/env python3
"""Compares two builds of `costroute bench` on a noisy machine.

Runs the two binaries alternately, swapping their order every round, and
prints each one's medians and the median of the per-round ratios (B / A),
which cancels most of the drift a shared VM shows between runs minutes
apart.

    python3 bench/ab_compare.py OLD/costroute NEW/costroute \\
        --data QUERIES.jsonl [--config models/default.config.json] \\
        [--rounds 8] [--threads 1] [--min-seconds 1]
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(binary, args):
    command = [binary, "bench", "--config", args.config, "--data", args.data, "--min-seconds",
               str(args.min_seconds), "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{binary}: exited {done.returncode}: {done.stderr.strip()}")
    d = json.loads(done.stdout)
    return {"p50_ns": d["p50_ns"], "batch_qps": d["batch_qps"], "threads_qps": d["threads_qps"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--data", required=True)
    parser.add_argument("--config", default="models/default.config.json")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    args = parser.parse_args()
    results = {args.a: [], args.b: []}
    for r in range(args.rounds):
        for binary in ((args.a, args.b) if r % 2 == 0 else (args.b, args.a)):
            results[binary].append(run(binary, args))
    for key in ("p50_ns", "batch_qps", "threads_qps"):
        a = [x[key] for x in results[args.a]]
        b = [x[key] for x in results[args.b]]
        ratios = [y / x for x, y in zip(a, b)]
        print(f"{key:12} A {statistics.median(a):>10.0f}  B {statistics.median(b):>10.0f}  "
              f"B/A median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
