#!/usr/bin/env python3
"""An independent numpy check of `costroute eval --config` (several models).

Usage: tier_eval_reference.py COSTROUTE_BINARY SHARED_DIR PROJECT_DIR

Routes each record with `costroute route` (the router is tested elsewhere;
here its decisions are the input), then totals, with numpy, every
strategy's mean quality, total cost, savings and drop against
always-strongest, and each model's share of prompts: the router, a
quality-first oracle (per prompt, the cheapest model with the best score
any model reached; ties in catalog order) and always-X for every model.
`costroute eval --config --json` must agree to 1e-9, on Arena's five
models (docs/eval/arena_five_models.config.json) and on a small set built
here with tied qualities and costs and records missing a model.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TOLERANCE = 1e-9


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, check=True).stdout


def catalog(config_path):
    with open(config_path, encoding="utf-8") as f:
        return [m["name"] for m in json.load(f)["models"]]


def decisions(binary, config, data, model=None):
    args = ["route", "--config", config, "--data", data] + (["--model", model] if model else [])
    return [json.loads(line) for line in run(binary, *args).splitlines()]


def reference(records, routed, models, strongest, costs):
    """Each strategy's totals; `costs` maps a model to its cost per request,
    or is None for the routed decision's own estimate (router only)."""
    keep = [i for i, r in enumerate(records) if all(m in r["quality"] for m in models)]
    q = np.array([[records[i]["quality"][m] for m in models] for i in keep], dtype=float)
    n, m = q.shape
    chosen = np.array([models.index(routed[i]["model"]) for i in keep])

    def strategy(name, pick, cost):
        share = np.bincount(pick, minlength=m) / n
        return {"name": name, "quality": float(q[np.arange(n), pick].mean()), "cost": float(cost),
                "model_share": dict(zip(models, share.tolist()))}

    out = {"n": n, "skipped": len(records) - n, "strongest": strongest}
    if costs is None:
        out["router"] = strategy("router", chosen, sum(routed[i]["estimated_cost_usd"] for i in keep))
        return out
    c = np.array([costs[name] for name in models], dtype=float)
    out["router"] = strategy("router", chosen, c[chosen].sum())
    # Best quality first, then the least cost, then catalog order.
    oracle = np.array([min(range(m), key=lambda j: (-q[i, j], c[j], j)) for i in range(n)])
    out["oracle"] = strategy("oracle", oracle, c[oracle].sum())
    out["always"] = [strategy("always " + name, np.full(n, j), n * c[j]) for j, name in enumerate(models)]
    reference_model = out["always"][models.index(strongest)]
    for s in [out["router"], out["oracle"]] + out["always"]:
        s["savings"] = 1 - s["cost"] / reference_model["cost"]
        s["quality_drop"] = (reference_model["quality"] - s["quality"]) / abs(reference_model["quality"])
    return out


def compare(name, got, want, path=""):
    if isinstance(want, dict):
        if not isinstance(got, dict):
            sys.exit(f"{name}: {path}: expected an object, got {got!r}")
        for key, value in want.items():
            if key not in got:
                sys.exit(f"{name}: {path}.{key}: missing")
            compare(name, got[key], value, f"{path}.{key}")
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            sys.exit(f"{name}: {path}: expected {len(want)} entries, got {got!r}")
        for k, (g, w) in enumerate(zip(got, want)):
            compare(name, g, w, f"{path}[{k}]")
    elif isinstance(want, str):
        if got != want:
            sys.exit(f"{name}: {path}: got {got!r}, want {want!r}")
    elif abs(got - want) > TOLERANCE * max(1.0, abs(want)):
        sys.exit(f"{name}: {path}: got {got!r}, want {want!r}")


def check(binary, name, config, data, costs, strongest, model=None):
    with open(data, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    models = catalog(config)
    args = ["eval", "--config", config, "--data", data, "--skip-incomplete", "--json"]
    if costs is not None:
        args += ["--costs", ",".join(f"{k}={v!r}" for k, v in costs.items())]
    if model:
        args += ["--model", model]
    got = json.loads(run(binary, *args))
    want = reference(records, decisions(binary, config, data, model), models, strongest, costs)
    compare(name, got, want)
    return want


def main():
    binary, shared, project = sys.argv[1], sys.argv[2], sys.argv[3]
    arena = os.path.join(shared, "data", "routing", "arena_bench_v1.jsonl")
    config = os.path.join(project, "docs", "eval", "arena_five_models.config.json")
    # The data's relative costs (docs/evaluation.md).
    costs = {"Mistral-7B-Instruct-v0.1": 0.01994, "Mixtral-8x7B-Instruct-v0.1": 0.05983,
             "Llama-2-70b-chat": 0.08975, "gpt-3.5-turbo-1106": 0.09972, "gpt-4-1106-preview": 1.0}
    want = check(binary, "Arena, --costs", config, arena, costs, "gpt-4-1106-preview")
    if want["skipped"] == 0 or sum(share > 0 for share in want["router"]["model_share"].values()) < 3:
        sys.exit("Arena: expected skipped records and a router that uses several models")
    check(binary, "Arena, the config's price estimates", config, arena, None, "gpt-4-1106-preview")

    with tempfile.TemporaryDirectory() as tmp:
        # Three models, two of them tied on cost; qualities tie often; some
        # records lack a model. A rule sends prompts with a reasoning word
        # to the strongest model, the rest to the cheapest.
        small_config = os.path.join(tmp, "three.config.json")
        with open(small_config, "w") as f:
            json.dump({"format": "costroute.config/1",
                       "models": [{"name": "a", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1},
                                  {"name": "b", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1},
                                  {"name": "c", "tier": 1, "usd_per_mtok_in": 5, "usd_per_mtok_out": 5}],
                       "policies": [{"type": "rule", "when": {"min_reasoning_hits": 1}, "route_to": "strongest"},
                                    {"type": "fixed", "route_to": "cheapest"}]}, f)
        rng = np.random.default_rng(11)
        data = os.path.join(tmp, "three.jsonl")
        with open(data, "w") as f:
            for i in range(200):
                quality = {name: int(rng.integers(0, 3)) for name in "abc"}
                if i % 17 == 0:
                    del quality["b"]
                words = "prove why step by step" if rng.random() < 0.4 else "say hello"
                f.write(json.dumps({"query": f"{words} {i}", "quality": quality}) + "\n")
        want = check(binary, "three models, ties", small_config, data, {"a": 0.5, "b": 0.5, "c": 2.0}, "c")
        if want["skipped"] != 12:
            sys.exit(f"three models: skipped {want['skipped']}, expected 12")
        check(binary, "three models, the config's price estimates", small_config, data, None, "c")


if __name__ == "__main__":
    main()
