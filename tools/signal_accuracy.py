#!/usr/bin/env python3
"""How well costroute detects task type and domain, on labelled real prompts.

Usage: signal_accuracy.py COSTROUTE_BINARY SHARED_DIR [--check]

The labelled sample is built from ../shared/data and tests/data:
* task type: GSM8K is math; MT-Bench's categories map to task types;
  MMLU (multiple-choice knowledge questions) is "question"; the 293 Chatbot
  Arena prompts were labelled by hand (tests/data/arena_labels.jsonl); the
  generated parity corpus has categories (reported apart: generated, not real).
* domain: MMLU's 57 subjects map to domains (below); Arena by hand.

Prints Markdown tables (accuracy per source, per-class precision and recall)
for docs/signals.md. With --check, exits non-zero if accuracy falls below
the floors in FLOORS (a regression test).
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ARENA_LABELS = os.path.join(HERE, "..", "tests", "data", "arena_labels.jsonl")

MT_BENCH_TASK = {"writing": "writing", "roleplay": "chat", "reasoning": "reasoning", "math": "math",
                 "coding": "code", "extraction": "extraction", "stem": "question", "humanities": "question"}
PARITY_TASK = {"factual": "question", "code": "code", "reasoning": "reasoning", "classify": "classification",
               "sentiment": "sentiment", "chat": "chat", "summarize_long": "summarization",
               "extract": "extraction", "translate": "translation", "math": "math"}
MMLU_DOMAIN = {}
for subjects, domain in [
    ("anatomy clinical_knowledge college_medicine human_aging medical_genetics nutrition "
     "professional_medicine virology", "medical"),
    ("international_law jurisprudence professional_law", "legal"),
    ("econometrics high_school_macroeconomics high_school_microeconomics professional_accounting", "finance"),
    ("abstract_algebra astronomy college_biology college_chemistry college_mathematics college_physics "
     "conceptual_physics elementary_mathematics high_school_biology high_school_chemistry "
     "high_school_mathematics high_school_physics high_school_statistics", "science"),
    ("college_computer_science computer_security electrical_engineering high_school_computer_science "
     "machine_learning", "technology"),
]:
    for s in subjects.split():
        MMLU_DOMAIN[s] = domain

# Accuracy floors for --check: a little under the measured values, so a
# change that makes detection worse fails the test.
FLOORS = {("task", "arena (hand-labelled)"): 0.53, ("task", "GSM8K"): 0.84,
          ("task", "MMLU"): 0.95, ("task", "MT-Bench"): 0.45, ("task", "parity corpus (generated)"): 0.80,
          ("domain", "MMLU"): 0.60, ("domain", "arena (hand-labelled)"): 0.55}


def read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


def samples(shared):
    routing = os.path.join(shared, "data", "routing")
    out = collections.defaultdict(list)  # (kind, source) -> [(query, label)]
    for r in read(os.path.join(routing, "routellm_gsm8k.jsonl")):
        out[("task", "GSM8K")].append((r["query"], "math"))
    for r in read(os.path.join(routing, "routellm_mt_bench.jsonl")):
        out[("task", "MT-Bench")].append((r["query"], MT_BENCH_TASK[r["meta"]["subset"]]))
    for r in read(os.path.join(routing, "routellm_mmlu.jsonl")):
        out[("task", "MMLU")].append((r["query"], "question"))
        out[("domain", "MMLU")].append((r["query"], MMLU_DOMAIN.get(r["meta"]["subset"], "general")))
    arena = {r["id"]: r["query"] for r in read(os.path.join(routing, "arena_bench_v1.jsonl"))}
    for r in read(ARENA_LABELS):
        out[("task", "arena (hand-labelled)")].append((arena[r["id"]], r["task_type"]))
        out[("domain", "arena (hand-labelled)")].append((arena[r["id"]], r["domain"]))
    for name in ("train_10k", "heldout_5k"):
        for r in read(os.path.join(shared, "parity", name + ".jsonl")):
            if r["category"] in PARITY_TASK:
                out[("task", "parity corpus (generated)")].append((r["query"], PARITY_TASK[r["category"]]))
    return out


def detect(binary, queries):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
        for q in queries:
            f.write(json.dumps({"query": q}) + "\n")
    try:
        out = subprocess.run([binary, "signals", "--data", f.name], capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return [json.loads(line) for line in out.stdout.splitlines()]


def main():
    binary, shared = sys.argv[1], sys.argv[2]
    check = "--check" in sys.argv
    failed = []
    results = {}
    for (kind, source), rows in sorted(samples(shared).items()):
        got = detect(binary, [q for q, _ in rows])
        field = "task_type" if kind == "task" else "domain"
        pairs = [(label, g[field]) for (_, label), g in zip(rows, got)]
        accuracy = sum(a == b for a, b in pairs) / len(pairs)
        results[(kind, source)] = (accuracy, pairs)
        floor = FLOORS.get((kind, source))
        if check and floor is not None and accuracy < floor:
            failed.append(f"{kind} on {source}: {accuracy:.3f} < floor {floor}")

    for kind in ("task", "domain"):
        print(f"\n### {'Task type' if kind == 'task' else 'Domain'} detection\n")
        print("| source | prompts | accuracy |")
        print("|---|---:|---:|")
        for (k, source), (accuracy, pairs) in results.items():
            if k == kind:
                print(f"| {source} | {len(pairs)} | {accuracy:.1%} |")
        real = [p for (k, s), (_, pairs) in results.items() if k == kind and "generated" not in s for p in pairs]
        labels = sorted({a for a, _ in real} | {b for _, b in real})
        print(f"\nPer class on the real prompts ({len(real)}):\n")
        print("| class | support | precision | recall |")
        print("|---|---:|---:|---:|")
        for c in labels:
            support = sum(a == c for a, _ in real)
            predicted = sum(b == c for _, b in real)
            hits = sum(a == b == c for a, b in real)
            precision = f"{hits / predicted:.1%}" if predicted else "–"
            recall = f"{hits / support:.1%}" if support else "–"
            print(f"| {c} | {support} | {precision} | {recall} |")
    if failed:
        print("\n".join(["", "below the floor:"] + failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
