#!/usr/bin/env python3
"""The bundled model is what models/README.md's command trains.

Usage: default_model_check.py COSTROUTE_BINARY SHARED_DIR MODEL_JSON

Retrains on the four routing sets with `costroute train` at its defaults
and compares with the bundled model: the same vocabulary and idf, and
weights within 1e-6 (a build with another compiler may round differently
in the last places, and the solver stops at a relative gradient of 1e-9).
"""

import json
import os
import subprocess
import sys
import tempfile

SETS = ["routellm_mmlu", "routellm_gsm8k", "routellm_mt_bench", "arena_bench_v1"]


def main():
    binary, shared, bundled_path = sys.argv[1:4]
    data = ",".join(os.path.join(shared, "data", "routing", s + ".jsonl") for s in SETS)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "default.model.json")
        subprocess.run([binary, "train", "--data", data, "--out", out], check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            trained = json.load(f)
    with open(bundled_path) as f:
        bundled = json.load(f)
    failures = []
    for key in ["format", "vectorizer", "vocabulary", "idf"]:
        if trained[key] != bundled[key]:
            failures.append(f"{key} differs")
    if len(trained["coef"]) == len(bundled["coef"]):
        worst = max(abs(a - b) for a, b in zip(trained["coef"], bundled["coef"]))
        worst = max(worst, abs(trained["intercept"] - bundled["intercept"]))
        if worst > 1e-6:
            failures.append(f"weights differ by up to {worst:.3g}")
    else:
        failures.append("a different number of weights")
    if failures:
        sys.exit("the bundled model is not what models/README.md's command trains: " + "; ".join(failures) +
                 " (retrain it with that command)")
    print(f"bundled model reproduced ({len(trained['coef'])} weights within 1e-6)")


if __name__ == "__main__":
    main()
