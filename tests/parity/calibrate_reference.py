#!/usr/bin/env python3
"""An independent numpy implementation of `costroute calibrate --model`.

Usage: calibrate_reference.py COSTROUTE_BINARY SHARED_DIR MODEL.json

For MT-Bench, Arena and GSM8K in SHARED_DIR/data/routing scored by MODEL,
for a generated set with costs that differ by prompt and graded qualities
scored by a model whose scores tie on almost every prompt, for MT-Bench
with some prompts repeated (the bootstrap draws prompts, copies together),
and for a set of three prompts on which some resamples leave nothing out,
scores the prompts
with `costroute score`, chooses the threshold for a maximum quality drop, a
share of strong calls or a maximum cost, measures it against the random
mixture, runs the seeded out-of-bag bootstrap with numpy (and Python
integers for the 64-bit generator), and requires `costroute calibrate
--json` to agree on every field to 1e-9. The curve and the random line are
cross-checked against eval_reference.py, itself independent of costroute.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# eval_reference.py sits beside this script in tests/parity.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_reference import (MASK64, central_95, load, prompt_groups, prompt_resamples, reference,  # noqa: E402
                            scores, write_tied_model, write_varied_costs)

TOLERANCE = 1e-9
SEED_SALT = 0xC0575A17E5  # calibrate's bootstrap starts at seed XOR this
ADVANTAGE_TOLERANCE = 1e-9  # an advantage at most this is rounding, not a win
RELIABLE_SHARE = 0.95


# ---- The router's curve -----------------------------------------------------

def router_curve(p, qs, ql, cs, cl):
    """The threshold sweep, from always-strong (threshold +inf) to
    always-small: one point per distinct score, highest first, each sending
    every prompt with p >= that score to the small model (NaN scores rank
    with -inf). Built from cumulative sums over the prompts sorted by score,
    read at the end of each run of equal scores."""
    n = len(p)
    key = np.where(np.isnan(p), -math.inf, p)
    order = np.argsort(-key, kind="stable")
    k = key[order]
    # One past the last prompt of each run of equal scores.
    ends = np.append(np.flatnonzero(k[1:] != k[:-1]) + 1, n)
    moved_cost = np.cumsum((cs - cl)[order])[ends - 1]
    moved_quality = np.cumsum((qs - ql)[order])[ends - 1]
    return {
        "threshold": np.append(math.inf, k[ends - 1]),
        "share": np.append(1.0, (n - ends) / n),
        "cost": np.append(cl.sum(), cl.sum() + moved_cost),
        "quality": np.append(ql.mean(), (ql.sum() + moved_quality) / n),
    }


def choose(curve, kind, value, ql_mean, cost_large):
    """The index of the curve point calibrate deploys for a target.

    drop:  the cheapest point whose quality is within the relative drop of
           always-strong's (to 1e-12 of the target), the better quality
           among equally cheap ones;
    share: the best quality with a strong share of at most `value`;
    cost:  the best quality at a cost of at most `value` of always-strong's;
           for both, within the budget to 1e-12, the least spent among
           equal qualities, and always-strong when nothing is within.
    Remaining ties go to the earliest point (the highest threshold)."""
    quality, cost = curve["quality"], curve["cost"]
    if kind == "drop":
        target = ql_mean - value * abs(ql_mean)
        ok = np.flatnonzero(quality >= target - 1e-12 * abs(target))
        if len(ok) == 0:
            return 0
        cheapest = ok[cost[ok] == cost[ok].min()]
        return int(cheapest[np.argmax(quality[cheapest])])
    spent = curve["share"] if kind == "share" else cost
    budget = value if kind == "share" else value * cost_large
    ok = np.flatnonzero(spent <= budget + 1e-12)
    if len(ok) == 0:
        return 0
    best = ok[quality[ok] == quality[ok].max()]
    return int(best[np.argmin(spent[best])])


def at_threshold(p, qs, ql, cs, cl, t):
    """Cost (total), mean quality and strong share of the router run at a
    fixed threshold t: p >= t goes to the small model (NaN never does)."""
    small = p >= t
    return np.where(small, cs, cl).sum(), np.where(small, qs, ql).mean(), (~small).sum() / len(p)


# ---- Against the random mixture ---------------------------------------------

def random_share_at(quality, qs_mean, ql_mean):
    """The share of strong calls at which the random mixture's mean quality
    is `quality`: 0 when the strong model has no lead, clipped to [0, 1]."""
    if not ql_mean > qs_mean:
        return 0.0
    return min(1.0, max(0.0, (quality - qs_mean) / (ql_mean - qs_mean)))


def advantage(cost, quality, qs_mean, ql_mean, cs_total, cl_total):
    """How much less than the random mixture of the same quality a point
    costs, as a share of always-strong's cost; the mixture's cost counted
    down from always-strong's, so that share 1 costs exactly that."""
    if not cl_total > 0:
        return 0.0
    s = random_share_at(quality, qs_mean, ql_mean)
    random_cost = cl_total - (1.0 - s) * (cl_total - cs_total)
    return (random_cost - cost) / cl_total


# ---- The whole calibration ----------------------------------------------------

def calibrate(p, qs, ql, cs, cl, kind, value, resamples, seed, groups=None):
    """What `costroute calibrate --json` must print, or a string naming why
    it must refuse. `groups`: each prompt's first record (repeats share it)."""
    n = len(p)
    groups = list(range(n)) if groups is None else groups
    ql_mean, qs_mean, cs_total, cl_total = ql.mean(), qs.mean(), cs.sum(), cl.sum()
    drop = value if kind == "drop" else 0.03  # the evaluation's drop
    curve = router_curve(p, qs, ql, cs, cl)
    best = choose(curve, kind, value, ql_mean, cl_total)
    cost, quality = curve["cost"][best], curve["quality"][best]
    if kind == "cost" and cost > value * cl_total + 1e-12:
        return "less than any threshold costs"
    threshold = curve["threshold"][best]
    if threshold == math.inf:
        # Nothing to the small model: the next double above the top score.
        threshold = float(np.nextafter(curve["threshold"][1] if len(p) else 1.0, 2.0))
    want = {
        "n": n,
        "threshold": float(threshold),
        "savings": 1 - cost / cl_total if cl_total > 0 else 0.0,
        "quality_drop": (ql_mean - quality) / abs(ql_mean) if ql_mean != 0 else 0.0,
        "strong_share": float(curve["share"][best]),
        "advantage_over_random": advantage(cost, quality, qs_mean, ql_mean, cs_total, cl_total),
        "small_model_suffices": bool(n > 0 and not ql_mean > qs_mean),
    }
    # The random mixture at the evaluation's drop, and the point chosen for
    # a drop, are eval's too: take them from eval_reference.py.
    eval_ref = reference(p, qs, ql, cs, cl, drop)
    want["random_savings_at_max_drop"] = eval_ref["random"]["savings_at_max_drop"]
    if kind == "drop":
        for ours, theirs in (("savings", "savings_at_max_drop"), ("quality_drop", "quality_drop"),
                             ("strong_share", "strong_share"), ("threshold", "threshold")):
            if abs(want[ours] - eval_ref["router"][theirs]) > TOLERANCE * max(1.0, abs(want[ours])):
                sys.exit(f"internal: the curve here and eval_reference.py disagree on {ours}: "
                         f"{want[ours]!r} vs {eval_ref['router'][theirs]!r}")

    # Out-of-bag bootstrap: each resample draws as many distinct prompts as
    # there are, with replacement, each bringing all its records (in-bag, in
    # draw order, a prompt's records in index order); the records of the
    # prompts never drawn (in index order) are the out-of-bag set. A
    # threshold chosen on the in-bag records for the target (always-strong
    # as +inf, above any score) is measured on the out-of-bag ones. A
    # resample that left nothing out is skipped.
    savings, drops, advantages = [], [], []
    for inside in prompt_resamples(groups, resamples, (seed ^ SEED_SALT) & MASK64):
        left_out = np.ones(n, dtype=bool)
        left_out[inside] = False
        out = np.flatnonzero(left_out)
        if len(out) == 0:
            continue
        ip, iqs, iql, ics, icl = p[inside], qs[inside], ql[inside], cs[inside], cl[inside]
        c = router_curve(ip, iqs, iql, ics, icl)
        pick = choose(c, kind, value, iql.mean(), icl.sum())
        t = c["threshold"][pick]
        op, oqs, oql, ocs, ocl = p[out], qs[out], ql[out], cs[out], cl[out]
        o_cost, o_quality, _ = at_threshold(op, oqs, oql, ocs, ocl, t)
        o_ql, o_cl = oql.mean(), ocl.sum()
        savings.append(1 - o_cost / o_cl if o_cl > 0 else 0.0)
        drops.append((o_ql - o_quality) / abs(o_ql) if o_ql != 0 else 0.0)
        advantages.append(advantage(o_cost, o_quality, oqs.mean(), o_ql, ocs.sum(), o_cl))
    if not advantages:
        return "too few prompts to bootstrap"
    wins = sum(1 for a in advantages if a > ADVANTAGE_TOLERANCE)
    want["savings_ci"] = central_95(savings)
    want["quality_drop_ci"] = central_95(drops)
    want["advantage_over_random_ci"] = central_95(advantages)
    want["better_than_random_share"] = wins / len(advantages)
    want["reliable"] = bool(want["better_than_random_share"] >= RELIABLE_SHARE)
    want["resamples"] = len(advantages)  # not printed; reported below
    return want


# ---- Running costroute and comparing ------------------------------------------

FLAG = {"drop": "--max-quality-drop", "share": "--strong-share", "cost": "--max-cost"}


def run_calibrate(binary, model, data, kind, value, resamples, seed):
    return subprocess.run([binary, "calibrate", "--model", model, "--data", data, "--json", FLAG[kind], repr(value),
                           "--bootstrap", str(resamples), "--seed", str(seed)], capture_output=True, text=True)


def close(a, b):
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def compare(name, got, want):
    bad = []
    for key, value in want.items():
        if key == "resamples":
            continue
        mine = got.get(key, "missing")
        if isinstance(value, bool) or key == "n":
            if mine != value or type(mine) is not type(value):
                bad.append(f"{key}: costroute {mine!r} numpy {value!r}")
        elif isinstance(value, list):
            if not (isinstance(mine, list) and len(mine) == 2 and all(close(a, b) for a, b in zip(mine, value))):
                bad.append(f"{key}: costroute {mine!r} numpy {value!r}")
        elif not isinstance(mine, (int, float)) or not close(mine, value):
            bad.append(f"{key}: costroute {mine!r} numpy {value!r}")
    # Fields the reference does not compute, but whose value is fixed.
    if got.get("scores") != "model" or got.get("written", "missing") is not None:
        bad.append(f"scores {got.get('scores')!r}, written {got.get('written', 'missing')!r}: expected model and null")
    # costroute's own verdict must follow its own share.
    if got.get("reliable") != (got.get("better_than_random_share", -1) >= RELIABLE_SHARE):
        bad.append(f"reliable {got.get('reliable')!r} with better_than_random_share "
                   f"{got.get('better_than_random_share')!r}")
    extra = set(got) - set(want) - {"scores", "written"}
    if extra:
        bad.append(f"fields not checked here: {sorted(extra)}")
    if bad:
        sys.exit(f"{name}: costroute calibrate disagrees with numpy:\n  " + "\n  ".join(bad))
    print(f"{name}: all fields agree (threshold {got['threshold']:.6g}, savings {got['savings']:.4f}, "
          f"strong {got['strong_share']:.3f}, advantage {got['advantage_over_random']:+.4f}, "
          f"better than random in {got['better_than_random_share']:.3f} of {want['resamples']})")


def check(name, binary, model, data, arrays, kind, value, resamples, seed):
    """One case: costroute's JSON against the reference, or both refusing."""
    p, qs, ql, cs, cl = arrays
    want = calibrate(p, qs, ql, cs, cl, kind, value, resamples, seed, prompt_groups(data))
    done = run_calibrate(binary, model, data, kind, value, resamples, seed)
    label = f"{name}, {FLAG[kind]} {value}, seed {seed}"
    if isinstance(want, str):
        if done.returncode == 0 or want not in done.stderr:
            sys.exit(f"{label}: expected a refusal ({want!r}); got exit {done.returncode}, "
                     f"stdout {done.stdout!r}, stderr {done.stderr!r}")
        print(f"{label}: refused as expected ({want})")
        return None
    if done.returncode != 0:
        sys.exit(f"{label}: costroute failed (exit {done.returncode}): {done.stderr}")
    compare(label, json.loads(done.stdout), want)
    return want


def only_small_cost(cs, cl):
    """A --max-cost that always-small meets and no other point does: a
    hair above always-small's share of always-strong's cost."""
    return float(cs.sum() / cl.sum() * (1 + 1e-6))


SEEDS = (1, 2**63 - 1)  # the second flips the high bits of the salted state


def main():
    started = time.time()
    binary, shared, model = sys.argv[1], sys.argv[2], sys.argv[3]
    routing = os.path.join(shared, "data", "routing")
    with tempfile.TemporaryDirectory() as tmp:
        tied = write_tied_model(os.path.join(tmp, "tied.json"))
        # With costs that differ by prompt, the cost budget and the in-bag
        # always-small cost move from resample to resample.
        varied = write_varied_costs(os.path.join(tmp, "varied_costs.jsonl"), seed=11, n=300)
        # Three prompts: 2 of every 9 resamples draw each of them once and
        # leave nothing out, and are skipped; one prompt leaves nothing out
        # ever, and calibrate must refuse.
        tiny = os.path.join(tmp, "tiny.jsonl")
        single = os.path.join(tmp, "single.jsonl")
        with open(tiny, "w") as f, open(single, "w") as g:
            for i, (words, q_small) in enumerate((("answer", 1), ("dollars", 0), ("x answer", 1))):
                line = json.dumps({"query": words, "cost_small": 0.1, "cost_large": 1.0,
                                   "quality": {"s": q_small, "l": 1}, "meta": {"small": "s", "large": "l"}}) + "\n"
                f.write(line)
                if i == 0:
                    g.write(line)

        sets = [(f"{name}, default model", os.path.join(routing, name + ".jsonl"), model, 200)
                for name in ("routellm_mt_bench", "arena_bench_v1", "routellm_gsm8k")]
        sets.append(("varied costs, tied scores", varied, tied, 200))
        # Repeated prompts: a resample draws prompts, each bringing its
        # copies, so no threshold is measured on a copy of its own data.
        # MT-Bench with 30 of its prompts given twice more, shuffled in.
        repeats = os.path.join(tmp, "mt_bench_repeats.jsonl")
        with open(os.path.join(routing, "routellm_mt_bench.jsonl"), encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
        rng = np.random.default_rng(5)
        lines += [lines[i] for i in rng.choice(len(lines), 30, replace=False) for _ in range(2)]
        with open(repeats, "w", encoding="utf-8") as f:
            f.writelines(lines[i] for i in rng.permutation(len(lines)))
        sets.append(("MT-Bench, 30 prompts three times, default model", repeats, model, 200))
        cases = 0
        for name, data, m, resamples in sets:
            qs, ql, cs, cl = load(data)
            p = scores(binary, m, data)
            arrays = (p, qs, ql, cs, cl)
            # A cost budget halfway from always-small's cost to always-strong's
            # (0.5 on the real sets, whose small model costs 6% of the large).
            halfway = round((1 + cs.sum() / cl.sum()) / 2, 1)
            targets = [("drop", 0.0), ("drop", 0.03), ("drop", 0.10), ("share", 0.0), ("share", 0.3),
                       ("share", 1.0), ("cost", halfway), ("cost", only_small_cost(cs, cl))]
            for kind, value in targets:
                for seed in SEEDS:
                    want = check(name, binary, m, data, arrays, kind, value, resamples, seed)
                    cases += 1
                    if kind == "cost" and value < 0.5 and want["strong_share"] != 0.0:
                        sys.exit(f"{name}: --max-cost {value} was meant to leave only always-small")
            # Just below always-small's cost nothing is within the budget.
            check(name, binary, m, data, arrays, "cost", float(cs.sum() / cl.sum() * (1 - 1e-6)), resamples, 1)
            cases += 1
        qs, ql, cs, cl = load(tiny)
        arrays = (scores(binary, tied, tiny), qs, ql, cs, cl)
        for seed in SEEDS:
            want = check("three prompts", binary, tied, tiny, arrays, "drop", 0.2, 50, seed)
            cases += 1
            if want["resamples"] == 50:
                sys.exit("three prompts: no resample was skipped; the case tests nothing")
        qs, ql, cs, cl = load(single)
        check("one prompt", binary, tied, single, (scores(binary, tied, single), qs, ql, cs, cl), "drop", 0.03, 20, 1)
        cases += 1
    print(f"{cases} cases agree in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
