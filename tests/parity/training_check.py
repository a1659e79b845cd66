#!/usr/bin/env python3
"""costroute train against the exact optimum and against scikit-learn.

Usage: training_check.py COSTROUTE_BINARY SHARED_DIR

For the parity corpus and for real MMLU routing data:
* the vocabulary equals scikit-learn's apart from ties at the max_features
  cut (terms whose total count equals the smallest count kept);
* held-out probabilities are within 1e-5 of the exact optimum of
  scikit-learn's objective on the same features (scipy's L-BFGS-B at tight
  tolerances, then polished with Newton-CG, reported with its gradient);
* and within 5e-4 of scikit-learn's default LogisticRegression fit on the
  same features (which stops early, about 1e-4 from the optimum).
With --learn label-and-win --win-c-factor 3 on MMLU, the held-out scores are within 1e-5 of
the blend of the two exact optima (the label's at C = 1, the small model's wins' at C = 3).
For character n-grams ("char" and "char_wb", without a max_features cut)
the vocabulary equals scikit-learn's exactly and idf is at most one unit in
the last place apart (numpy's log against the C library's).
"""

import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

OPTIMUM_TOLERANCE = 1e-5
SKLEARN_TOLERANCE = 5e-4


def read_jsonl(path, label):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [r["query"] for r in rows], np.array([float(r[label]) for r in rows])


def costroute(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"costroute {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def exact_optimum(X, y, C=1.0):
    """argmin C * sum logloss + |w|^2 / 2, intercept unpenalised."""

    def loss_grad(t):
        w, b = t[:-1], t[-1]
        z = X @ w + b
        r = expit(z) - y
        return C * (np.logaddexp(0, z) - y * z).sum() + 0.5 * w @ w, np.r_[C * (X.T @ r) + w, C * r.sum()]

    def hessp(t, v):
        w, b = t[:-1], t[-1]
        p = expit(X @ w + b)
        s = C * p * (1 - p) * (X @ v[:-1] + v[-1])
        return np.r_[X.T @ s + v[:-1], s.sum()]

    t = minimize(loss_grad, np.zeros(X.shape[1] + 1), jac=True, method="L-BFGS-B",
                 options=dict(maxiter=100000, maxfun=200000, ftol=0, gtol=1e-12, maxcor=50)).x
    t = minimize(loss_grad, t, jac=True, hess=None, hessp=hessp, method="Newton-CG",
                 options=dict(xtol=1e-14, maxiter=200)).x
    return t, np.abs(loss_grad(t)[1]).max()


def check(binary, tmp, name, train_path, test_path, label):
    train_q, train_y = read_jsonl(train_path, label)
    test_q, _ = read_jsonl(test_path, label)
    model_path = os.path.join(tmp, "model.json")
    costroute(binary, "train", "--data", train_path, "--out", model_path, "--label", label)
    model = json.load(open(model_path, encoding="utf-8"))
    got = np.array([json.loads(l)["p_small_ok"] for l in
                    costroute(binary, "score", "--model", model_path, "--data", test_path).splitlines()])

    # Vocabulary: equal to scikit-learn's default fit apart from ties at the cut.
    reference = TfidfVectorizer(max_features=5000, ngram_range=(1, 2)).fit(train_q)
    counts = CountVectorizer(ngram_range=(1, 2)).fit(train_q)
    totals = dict(zip(counts.get_feature_names_out(), np.asarray(counts.transform(train_q).sum(0)).ravel()))
    ours, theirs = set(model["vocabulary"]), set(reference.vocabulary_)
    cut = min(totals[t] for t in theirs)
    untied = {t for t in theirs if totals[t] > cut}
    if not untied <= ours or any(totals[t] != cut for t in ours ^ theirs) or len(ours) != len(theirs):
        sys.exit(f"{name}: vocabulary differs beyond ties at the cut (count {cut})")

    # The same features in scipy: costroute's vocabulary and idf.
    vectorizer = TfidfVectorizer(vocabulary=model["vocabulary"], ngram_range=(1, 2)).fit(train_q)
    vectorizer.idf_ = np.array(model["idf"])
    X, X_test = vectorizer.transform(train_q), vectorizer.transform(test_q)
    theta, gradient = exact_optimum(X, train_y)
    optimum = expit(X_test @ theta[:-1] + theta[-1])
    default = LogisticRegression().fit(X, train_y).predict_proba(X_test)[:, 1]
    d_opt, d_default = np.abs(got - optimum).max(), np.abs(got - default).max()
    print(f"{name}: {len(ours ^ theirs)} terms differ, all tied at count {cut}; held-out max |costroute - optimum| "
          f"= {d_opt:.2e} (reference gradient {gradient:.1e}); max |costroute - sklearn default| = {d_default:.2e}")
    if d_opt > OPTIMUM_TOLERANCE:
        sys.exit(f"{name}: {d_opt:.3g} from the optimum, limit {OPTIMUM_TOLERANCE}")
    if d_default > SKLEARN_TOLERANCE:
        sys.exit(f"{name}: {d_default:.3g} from scikit-learn's default fit, limit {SKLEARN_TOLERANCE}")


def check_label_and_win(binary, tmp, train_path, test_path):
    """--learn label-and-win --win-c-factor 3: two heads, each the exact optimum for its own labels (the win head's
    at C = 3), blended (p + w * p_win) / (1 + w)."""
    rows = [json.loads(line) for line in open(train_path, encoding="utf-8") if line.strip()]
    train_q = [r["query"] for r in rows]
    label = np.array([float(r["label_small_ok"]) for r in rows])
    win = np.array([float(r["quality"][r["meta"]["small"]] > r["quality"][r["meta"]["large"]]) for r in rows])
    test_q, _ = read_jsonl(test_path, "label_small_ok")
    model_path = os.path.join(tmp, "win.json")
    costroute(binary, "train", "--data", train_path, "--out", model_path, "--learn", "label-and-win",
              "--win-c-factor", "3")
    model = json.load(open(model_path, encoding="utf-8"))
    got = np.array([json.loads(l)["p_small_ok"] for l in
                    costroute(binary, "score", "--model", model_path, "--data", test_path).splitlines()])
    weight = model["win_head"]["weight"]
    if weight != 0.5:
        sys.exit(f"label and wins: the win head's weight is {weight}, not 0.5")
    vectorizer = TfidfVectorizer(vocabulary=model["vocabulary"], ngram_range=(1, 2)).fit(train_q)
    vectorizer.idf_ = np.array(model["idf"])
    X, X_test = vectorizer.transform(train_q), vectorizer.transform(test_q)
    theta, g1 = exact_optimum(X, label)
    phi, g2 = exact_optimum(X, win, C=3.0)
    expected = (expit(X_test @ theta[:-1] + theta[-1]) + weight * expit(X_test @ phi[:-1] + phi[-1])) / (1 + weight)
    d_opt = np.abs(got - expected).max()
    print(f"MMLU routing, label and wins ({int(win.sum())} wins of {len(win)}, win head at C = 3): held-out max "
          f"|costroute - "
          f"blend of the two optima| = {d_opt:.2e} (reference gradients {g1:.1e}, {g2:.1e})")
    if d_opt > OPTIMUM_TOLERANCE:
        sys.exit(f"label and wins: {d_opt:.3g} from the optimum, limit {OPTIMUM_TOLERANCE}")


def check_char_vocabulary(binary, tmp, train_path, analyzer, ngram, min_df):
    train_q, _ = read_jsonl(train_path, "label")
    model_path = os.path.join(tmp, "char.json")
    costroute(binary, "train", "--data", train_path, "--out", model_path, "--label", "label", "--analyzer", analyzer,
              "--ngram", f"{ngram[0]},{ngram[1]}", "--max-features", "none", "--min-df", str(min_df), "--max-iter", "5")
    model = json.load(open(model_path, encoding="utf-8"))
    reference = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram, min_df=min_df).fit(train_q)
    theirs = reference.get_feature_names_out().tolist()
    name = f"{analyzer} {ngram[0]}-{ngram[1]} grams, min_df={min_df}"
    if model["vocabulary"] != theirs:
        extra, missing = set(model["vocabulary"]) - set(theirs), set(theirs) - set(model["vocabulary"])
        sys.exit(f"{name}: vocabulary differs: {len(extra)} extra {sorted(extra)[:5]}, "
                 f"{len(missing)} missing {sorted(missing)[:5]}")
    # numpy's vectorised log may round differently from the C library's by
    # one unit in the last place; costroute trains with the latter.
    ours_idf, their_idf = np.array(model["idf"]), reference.idf_
    ulps = np.abs(ours_idf.view(np.int64) - their_idf.view(np.int64))
    if ulps.max() > 1:
        sys.exit(f"{name}: idf differs by up to {ulps.max()} units in the last place")
    print(f"{name}: vocabulary ({len(theirs)} terms) equals scikit-learn's; idf equal or one ulp apart "
          f"({np.count_nonzero(ulps)} of {len(ulps)})")


def main():
    warnings.simplefilter("ignore")
    binary, shared = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        check(binary, tmp, "parity corpus", os.path.join(shared, "parity", "train_10k.jsonl"),
              os.path.join(shared, "parity", "heldout_5k.jsonl"), "label")
        # Real data: MMLU split into the first 80% for training and the rest held out.
        mmlu = open(os.path.join(shared, "data", "routing", "routellm_mmlu.jsonl"), encoding="utf-8").readlines()
        cut = len(mmlu) * 4 // 5
        train, test = os.path.join(tmp, "mmlu_train.jsonl"), os.path.join(tmp, "mmlu_test.jsonl")
        open(train, "w", encoding="utf-8").writelines(mmlu[:cut])
        open(test, "w", encoding="utf-8").writelines(mmlu[cut:])
        check(binary, tmp, "MMLU routing", train, test, "label_small_ok")
        check_label_and_win(binary, tmp, train, test)
        parity_train = os.path.join(shared, "parity", "train_10k.jsonl")
        check_char_vocabulary(binary, tmp, parity_train, "char_wb", (1, 4), 1)
        check_char_vocabulary(binary, tmp, parity_train, "char", (2, 5), 2)


if __name__ == "__main__":
    main()
