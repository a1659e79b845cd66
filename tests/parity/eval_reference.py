#!/usr/bin/env python3
"""An independent numpy implementation of `costroute eval`'s metrics.

Usage: eval_reference.py COSTROUTE_BINARY SHARED_DIR MODEL.json

For every routing set in SHARED_DIR/data/routing, and for a model built here
whose scores tie on almost every prompt, scores the prompts with
`costroute score`, computes savings at a 3% (and 10%) quality drop, APGR,
CPT(50%), CPT(80%), AUC and the threshold, for the router, random and
oracle, and the seeded bootstrap of the router's APGR (prompts drawn, a
repeated one's copies together), with numpy, and requires `costroute eval
--json` to agree to 1e-9.
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

TOLERANCE = 1e-9
MASK64 = (1 << 64) - 1
APGR_SEED_SALT = 0xA96B007  # eval's APGR bootstrap starts at seed XOR this


def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    qs = np.array([r["quality"][r["meta"]["small"]] for r in rows], dtype=float)
    ql = np.array([r["quality"][r["meta"]["large"]] for r in rows], dtype=float)
    cs = np.array([r["cost_small"] for r in rows], dtype=float)
    cl = np.array([r["cost_large"] for r in rows], dtype=float)
    return qs, ql, cs, cl


def scores(binary, model, data):
    out = subprocess.run([binary, "score", "--model", model, "--data", data], capture_output=True, text=True,
                         check=True)
    return np.array([json.loads(line)["p_small_ok"] for line in out.stdout.splitlines()])


def curve_metrics(share, cost, quality, thresholds, qs_mean, ql_mean, total_large, drop):
    """Metrics of a curve given as arrays ordered from all-strong to all-small."""
    # PGR is the share of the strong model's lead kept: without a lead,
    # it and everything built on it is undefined (null in JSON).
    defined = ql_mean > qs_mean
    pgr = (quality - qs_mean) / (ql_mean - qs_mean) if defined else None
    target = ql_mean - drop * abs(ql_mean)
    ok = quality >= target - 1e-12 * abs(target)
    candidates = np.flatnonzero(ok)
    best_cost = cost[candidates].min()
    tied = candidates[cost[candidates] == best_cost]
    best = tied[np.argmax(quality[tied])]
    # Trapezoids over the strong share, which decreases along the curve.
    apgr = float(np.sum((share[:-1] - share[1:]) * (pgr[:-1] + pgr[1:]) / 2)) if defined else None
    cpt = lambda x: None if not defined else float(share[pgr >= x - 1e-12].min()) if np.any(pgr >= x - 1e-12) else 1.0
    return {"savings_at_max_drop": 1 - cost[best] / total_large, "quality_drop": (ql_mean - quality[best]) / abs(ql_mean),
            "strong_share": share[best], "apgr": apgr, "cpt50": cpt(0.5), "cpt80": cpt(0.8),
            "threshold": thresholds[best] if thresholds is not None else None}


def reference(p, qs, ql, cs, cl, drop):
    n = len(p)
    qs_mean, ql_mean, total_large = qs.mean(), ql.mean(), cl.sum()
    # Router: distinct scores from high to low; each step sends every prompt
    # with p >= that score to the small model.
    levels = np.unique(p)[::-1]
    share = [1.0]
    cost = [total_large]
    quality = [ql_mean]
    thresholds = [math.inf]
    for t in levels:
        small = p >= t
        share.append((~small).sum() / n)
        cost.append(np.where(small, cs, cl).sum())
        quality.append(np.where(small, qs, ql).mean())
        thresholds.append(t)
    router = curve_metrics(np.array(share), np.array(cost), np.array(quality), thresholds, qs_mean, ql_mean,
                           total_large, drop)
    if router["threshold"] == math.inf:
        router["threshold"] = float(np.nextafter(levels[0], math.inf))
    # AUC by pairs: P(p of an ok prompt > p of a not-ok prompt) + ties / 2.
    ok = qs >= ql
    pos, neg = p[ok], p[~ok]
    if len(pos) and len(neg):
        greater = (pos[:, None] > neg[None, :]).sum()
        ties = (pos[:, None] == neg[None, :]).sum()
        router["auc"] = (greater + ties / 2) / (len(pos) * len(neg))
    else:
        router["auc"] = 0.5
    # Oracle: prompts move to the small model free wins first (no loss, no
    # extra cost), then by quality lost per unit of cost saved, then those
    # that buy quality for an extra cost (most per unit first), then pure
    # losses; ties in input order.
    def oracle_key(i):
        loss, saving = ql[i] - qs[i], cl[i] - cs[i]
        if loss <= 0 and saving >= 0:
            return (0, loss, -saving, i)
        if saving > 0:
            return (1, loss / saving, -saving, i)
        if loss < 0:
            return (2, -(loss / saving), loss, i)
        return (3, loss, -saving, i)
    order = sorted(range(n), key=oracle_key)
    small = np.zeros(n, dtype=bool)
    share, cost, quality = [1.0], [total_large], [ql_mean]
    running_cost, running_quality = total_large, ql.sum()
    for i in order:
        running_cost += cs[i] - cl[i]
        running_quality += qs[i] - ql[i]
        share.append(1 - (len(share)) / n)
        cost.append(running_cost)
        quality.append(running_quality / n)
    oracle = curve_metrics(np.array(share), np.array(cost), np.array(quality), None, qs_mean, ql_mean,
                           total_large, drop)
    oracle["auc"] = 1.0 if ok.any() and (~ok).any() else 0.5
    # Random: the straight line.
    if cs.sum() >= total_large:
        s = 1.0  # strong calls are the cheaper ones
    elif ql_mean > qs_mean:
        s = min(1.0, max(0.0, 1 - drop * abs(ql_mean) / (ql_mean - qs_mean)))
    else:
        s = 0.0
    c = cs.sum() + s * (total_large - cs.sum())
    q = qs_mean + s * (ql_mean - qs_mean)
    random = {"savings_at_max_drop": 1 - c / total_large, "quality_drop": (ql_mean - q) / abs(ql_mean),
              "strong_share": s, "auc": 0.5, "threshold": None}
    for key, value in (("apgr", 0.5), ("cpt50", 0.5), ("cpt80", 0.8)):
        random[key] = value if ql_mean > qs_mean else None
    return {"n": n, "router": router, "random": random, "oracle": oracle}


# ---- The seeded bootstrap (shared with calibrate_reference.py) ----------------

def splitmix64(state):
    """One SplitMix64 step on a 64-bit state: (next state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def central_95(values):
    """The 2.5th and 97.5th percentiles by nearest rank: of the sorted
    values, those at round-half-up(q * (m - 1))."""
    v = sorted(values)
    at = lambda q: v[int(q * (len(v) - 1) + 0.5)]
    return [at(0.025), at(0.975)]


def prompt_groups(path):
    """Each record's first record with the same query."""
    first, groups = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                groups.append(first.setdefault(json.loads(line)["query"], len(groups)))
    return groups


def prompt_resamples(groups, resamples, state):
    """Yields the record indices of each bootstrap resample from the seeded
    generator at `state`: as many prompts as there are, drawn with
    replacement, each bringing all its records (`groups`: each record's
    first record with its query), in draw order."""
    prompts = [i for i in range(len(groups)) if groups[i] == i]
    copies = {i: [] for i in prompts}
    for j, first in enumerate(groups):
        copies[first].append(j)
    for _ in range(resamples):
        drawn = []
        for _ in range(len(prompts)):
            state, r = splitmix64(state)
            drawn.extend(copies[prompts[r % len(prompts)]])
        yield np.array(drawn)


def router_apgr(p, qs, ql):
    """The router's APGR alone, from cumulative sums over the prompts in
    order of score (equal scores move together); None without the strong
    model's lead."""
    n = len(p)
    qs_mean, ql_mean = qs.mean(), ql.mean()
    if not ql_mean > qs_mean:
        return None
    order = np.argsort(-p, kind="stable")
    ends = np.r_[np.flatnonzero(np.diff(p[order]) != 0) + 1, n]
    quality = np.r_[ql_mean, (ql.sum() + np.cumsum((qs - ql)[order])[ends - 1]) / n]
    share = np.r_[1.0, 1.0 - ends / n]
    pgr = (quality - qs_mean) / (ql_mean - qs_mean)
    return float(np.sum((share[:-1] - share[1:]) * (pgr[:-1] + pgr[1:]) / 2))


def apgr_bootstrap(p, qs, ql, resamples, seed, groups):
    """What eval prints of its APGR bootstrap: each resample draws as many
    prompts as there are, with replacement, each bringing all its records
    (`groups`: each record's first record with its query); a resample
    without the strong model's lead is left out."""
    if router_apgr(p, qs, ql) is None:
        return {"apgr_ci": [None, None], "apgr_above_random": None, "bootstrap": 0}  # eval draws none
    values = []
    for idx in prompt_resamples(groups, resamples, (seed ^ APGR_SEED_SALT) & MASK64):
        apgr = router_apgr(p[idx], qs[idx], ql[idx])
        if apgr is not None:
            values.append(apgr)
    if not values:
        return {"apgr_ci": [None, None], "apgr_above_random": None, "bootstrap": 0}
    above = sum(1 for v in values if v > 0.5 + 1e-9)  # rounding alone is not above random's line
    return {"apgr_ci": central_95(values), "apgr_above_random": above / len(values), "bootstrap": len(values)}


def compare_bootstrap(name, got, want):
    bad = []
    if got["bootstrap"] != want["bootstrap"]:
        bad.append(f"bootstrap: costroute {got['bootstrap']} numpy {want['bootstrap']}")
    for key, mine, value in (("apgr_ci[0]", got["apgr_ci"][0], want["apgr_ci"][0]),
                             ("apgr_ci[1]", got["apgr_ci"][1], want["apgr_ci"][1]),
                             ("apgr_above_random", got["apgr_above_random"], want["apgr_above_random"])):
        if value is None or mine is None:
            if value is not mine:
                bad.append(f"{key}: costroute {mine} numpy {value}")
        elif abs(mine - value) > TOLERANCE * max(1.0, abs(value)):
            bad.append(f"{key}: costroute {mine!r} numpy {value!r}")
    if bad:
        sys.exit(f"{name}: costroute eval's APGR bootstrap disagrees with numpy:\n  " + "\n  ".join(bad))
    print(f"{name}: the APGR bootstrap agrees ({want['bootstrap']} resamples, 95% CI {want['apgr_ci'][0]:.4f} to "
          f"{want['apgr_ci'][1]:.4f}, above random in {want['apgr_above_random']:.3f})")


def compare(name, got, want):
    bad = []
    for part in ("router", "random", "oracle"):
        ours = got if part == "router" else got[part]
        for key, value in want[part].items():
            mine = ours[key]
            if value is None or mine is None:
                if value is not mine:
                    bad.append(f"{part}.{key}: costroute {mine} numpy {value}")
            elif abs(mine - value) > TOLERANCE * max(1.0, abs(value)):
                bad.append(f"{part}.{key}: costroute {mine!r} numpy {value!r}")
    if got["n"] != want["n"]:
        bad.append(f"n: {got['n']} vs {want['n']}")
    if bad:
        sys.exit(f"{name}: costroute eval disagrees with numpy:\n  " + "\n  ".join(bad))
    apgr = "undefined" if got["apgr"] is None else f"{got['apgr']:.4f}"
    print(f"{name}: all metrics agree (router savings {got['savings_at_max_drop']:.4f}, apgr {apgr}, "
          f"auc {got['auc']:.4f})")


def write_tied_model(path):
    """A model whose scores tie on nearly every prompt: two rare terms."""
    with open(path, "w") as f:
        json.dump({"format": "costroute.model/1",
                   "vectorizer": {"lowercase": True, "ngram_range": [1, 1], "norm": "l2"},
                   "intercept": 0.25, "vocabulary": ["answer", "dollars"], "idf": [1.0, 1.0],
                   "coef": [1.5, -2.0]}, f)
    return path


def write_varied_costs(path, seed, n):
    """n prompts of the tied model's words with costs that differ by prompt
    (the small model at 0.01 to 1.5 times the large one's, so some cost more)
    and graded qualities (the small model sometimes the better one)."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for _ in range(n):
            words = " ".join(rng.choice(["answer", "dollars", "x", "y", "z"], size=rng.integers(1, 6)))
            cost_large = float(rng.choice([0.5, 1.0, 4.0, 20.0]))
            cost_small = float(cost_large * rng.choice([0.01, 0.1, 0.5, 1.0, 1.5]))
            f.write(json.dumps({"query": words, "cost_small": cost_small, "cost_large": cost_large,
                                "quality": {"s": float(rng.integers(0, 11)), "l": float(rng.integers(2, 11))},
                                "meta": {"small": "s", "large": "l"}}) + "\n")
    return path


def main():
    binary, shared, model = sys.argv[1], sys.argv[2], sys.argv[3]
    routing = os.path.join(shared, "data", "routing")
    with tempfile.TemporaryDirectory() as tmp:
        tied = write_tied_model(os.path.join(tmp, "tied.json"))
        # The oracle's order by loss per unit saved, and the random line,
        # are tested on costs that differ by prompt.
        varied = write_varied_costs(os.path.join(tmp, "varied_costs.jsonl"), seed=7, n=400)
        qs, ql, cs, cl = load(varied)
        p = scores(binary, tied, varied)
        for drop in (0.03, 0.10, 0.30):
            out = subprocess.run([binary, "eval", "--model", tied, "--data", varied, "--json",
                                  "--max-quality-drop", str(drop)], capture_output=True, text=True, check=True)
            compare(f"varied costs, drop {drop}", json.loads(out.stdout), reference(p, qs, ql, cs, cl, drop))
        # Its prompts repeat (five words make few queries): the bootstrap
        # draws prompts, which must differ from drawing records here.
        got = json.loads(out.stdout)
        groups = prompt_groups(varied)
        assert len(set(groups)) < 0.9 * len(groups)
        compare_bootstrap("varied costs, repeated prompts", got, apgr_bootstrap(p, qs, ql, 1000, 1, groups))
        if apgr_bootstrap(p, qs, ql, 1000, 1, list(range(len(p))))["apgr_ci"] == got["apgr_ci"]:
            sys.exit("varied costs: drawing records gives the same interval as drawing prompts; the check cannot tell")
        # With costs that differ by prompt the oracle's greedy order is not
        # the cheapest way to every quality (a knapsack), but on this data
        # it must still save at least as much as the router at every drop.
        for drop in (0.03, 0.10, 0.30):
            want = reference(p, qs, ql, cs, cl, drop)
            if want["oracle"]["savings_at_max_drop"] < want["router"]["savings_at_max_drop"]:
                sys.exit(f"varied costs, drop {drop}: the oracle saves less than the router")
        # Strong calls cheaper than small ones: nothing to save, which eval
        # says instead of printing a table of zeros (evaluate() itself keeps
        # random at always-strong there: tests/eval_test.cc).
        pricey = os.path.join(tmp, "pricey.jsonl")
        with open(pricey, "w") as f:
            for i, words in enumerate(["answer", "dollars", "x", "answer dollars"]):
                f.write(json.dumps({"query": words, "cost_small": 2.0, "cost_large": 1.0,
                                    "quality": {"s": i % 2, "l": 1}, "meta": {"small": "s", "large": "l"}}) + "\n")
        refused = subprocess.run([binary, "eval", "--model", tied, "--data", pricey, "--json",
                                  "--max-quality-drop", "0.5"], capture_output=True, text=True)
        if refused.returncode != 1 or "nothing to save" not in refused.stderr:
            sys.exit(f"pricey small model: exit {refused.returncode}, stderr {refused.stderr!r}; expected a refusal")

        # The small model better on average: GSM8K with the two models'
        # qualities swapped (costs kept), where PGR has no lead to measure.
        swapped = os.path.join(tmp, "swapped.jsonl")
        with open(os.path.join(routing, "routellm_gsm8k.jsonl"), encoding="utf-8") as f, open(swapped, "w") as out:
            for line in f:
                r = json.loads(line)
                r["meta"]["small"], r["meta"]["large"] = r["meta"]["large"], r["meta"]["small"]
                out.write(json.dumps(r) + "\n")
        qs, ql, cs, cl = load(swapped)
        assert qs.mean() > ql.mean()
        got = json.loads(subprocess.run([binary, "eval", "--model", model, "--data", swapped, "--json"],
                                        capture_output=True, text=True, check=True).stdout)
        compare("GSM8K, the small model the better one", got, reference(scores(binary, model, swapped), qs, ql, cs, cl, 0.03))
        if got["apgr"] is not None or got["bootstrap"] != 0:
            sys.exit(f"GSM8K swapped: APGR {got['apgr']} and {got['bootstrap']} bootstrap resamples, expected none")

        for set_name in ("routellm_mt_bench", "arena_bench_v1", "routellm_gsm8k", "routellm_mmlu"):
            data = os.path.join(routing, set_name + ".jsonl")
            qs, ql, cs, cl = load(data)
            for m, label in ((model, "default model"), (tied, "tied scores")):
                p = scores(binary, m, data)
                for drop in (0.03, 0.10):
                    out = subprocess.run([binary, "eval", "--model", m, "--data", data, "--json",
                                          "--max-quality-drop", str(drop)], capture_output=True, text=True, check=True)
                    compare(f"{set_name}, {label}, drop {drop}", json.loads(out.stdout),
                            reference(p, qs, ql, cs, cl, drop))
                # The bootstrap, with fewer resamples on MMLU (14,042 prompts, 105 repeated).
                resamples = 100 if set_name == "routellm_mmlu" else 1000
                out = subprocess.run([binary, "eval", "--model", m, "--data", data, "--json", "--bootstrap",
                                      str(resamples), "--seed", "3"], capture_output=True, text=True, check=True)
                compare_bootstrap(f"{set_name}, {label}", json.loads(out.stdout),
                                  apgr_bootstrap(p, qs, ql, resamples, 3, prompt_groups(data)))


if __name__ == "__main__":
    main()
