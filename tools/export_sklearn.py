#!/usr/bin/env python3
"""Convert a fitted scikit-learn text classifier into a costroute model file.

Usage: export_sklearn.py PIPELINE.pkl OUT.json

PIPELINE.pkl holds a pickled, fitted sklearn Pipeline of a TfidfVectorizer
and a LogisticRegression (any step names), or a (vectorizer, classifier)
tuple. costroute then scores every query exactly as
pipeline.predict_proba(queries)[:, 1], bit for bit (see shared/DESIGN.md,
"scikit-learn import", and docs/sklearn-import.md).

Settings that costroute cannot reproduce exactly (a custom tokenizer,
preprocessor or token pattern, a callable analyzer, stop words, accent
stripping, float32, multinomial logistic regression) are refused with a
message naming the setting, rather than exported into a model that would
score differently.

Only load pickles you trust: unpickling runs code.
"""

import argparse
import json
import math
import os
import pickle
import sys

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
FORMAT = "costroute.model/1"
# Term counts per query up to which a sublinear_tf model carries numpy's log.
SUBLINEAR_TABLE = 1024


class ExportError(Exception):
    pass


def split_pipeline(obj):
    """Returns (vectorizer, classifier) from a Pipeline or a 2-tuple."""
    if isinstance(obj, (tuple, list)):
        if len(obj) != 2:
            raise ExportError(f"expected a (vectorizer, classifier) tuple, got {len(obj)} items")
        return obj[0], obj[1]
    steps = getattr(obj, "steps", None)
    if steps is None:
        raise ExportError(f"expected a sklearn Pipeline or a (vectorizer, classifier) tuple, "
                          f"got {type(obj).__name__}")
    steps = [step for _, step in steps if step not in (None, "passthrough")]
    if len(steps) != 2:
        raise ExportError(f"expected a Pipeline of 2 steps (TfidfVectorizer, LogisticRegression), "
                          f"got {len(steps)}: {[type(s).__name__ for s in steps]}")
    return steps[0], steps[1]


def check_vectorizer(vec):
    from sklearn.feature_extraction.text import TfidfVectorizer
    import numpy as np

    if not isinstance(vec, TfidfVectorizer):
        raise ExportError(f"first step: expected a TfidfVectorizer, got {type(vec).__name__}")
    if not hasattr(vec, "vocabulary_"):
        raise ExportError("vectorizer: not fitted (no vocabulary_)")
    refusals = [
        ("analyzer", vec.analyzer in ("word", "char", "char_wb"),
         "analyzer must be 'word', 'char' or 'char_wb'"),
        # Only the word analyzer reads the token pattern.
        ("token_pattern", vec.analyzer != "word" or vec.token_pattern == DEFAULT_TOKEN_PATTERN,
         f"only the default token pattern {DEFAULT_TOKEN_PATTERN!r} is supported"),
        ("tokenizer", vec.tokenizer is None, "a custom tokenizer cannot be reproduced"),
        ("preprocessor", vec.preprocessor is None, "a custom preprocessor cannot be reproduced"),
        ("stop_words", vec.stop_words is None, "stop words are not supported"),
        ("strip_accents", vec.strip_accents is None, "accent stripping is not supported"),
        ("input", vec.input == "content", "only input='content' is supported"),
        ("dtype", np.dtype(vec.dtype) == np.float64, "only dtype float64 is supported"),
        ("norm", vec.norm in ("l2", "l1", None), "norm must be 'l2', 'l1' or None"),
    ]
    for name, ok, why in refusals:
        if not ok:
            raise ExportError(f"vectorizer.{name}: {why} (got {getattr(vec, name)!r})")
    lo, hi = vec.ngram_range
    if not (1 <= lo <= hi <= 8):
        raise ExportError(f"vectorizer.ngram_range: expected 1 <= min <= max <= 8, got {vec.ngram_range}")


def check_classifier(clf):
    from sklearn.linear_model import LogisticRegression

    if not isinstance(clf, LogisticRegression):
        raise ExportError(f"second step: expected a LogisticRegression, got {type(clf).__name__}")
    if not hasattr(clf, "coef_"):
        raise ExportError("classifier: not fitted (no coef_)")
    if len(clf.classes_) != 2:
        raise ExportError(f"classifier.classes_: expected 2 classes, got {len(clf.classes_)}")
    if clf.multi_class == "multinomial":
        raise ExportError("classifier.multi_class: 'multinomial' scores a binary problem with a "
                          "softmax, which costroute does not reproduce; refit with 'auto' or 'ovr'")
    if clf.coef_.shape[0] != 1:
        raise ExportError(f"classifier.coef_: expected 1 row, got {clf.coef_.shape[0]}")


def json_number(x, field):
    x = float(x)
    if not math.isfinite(x):
        raise ExportError(f"{field}: not a finite number ({x})")
    return x


def to_model(vec, clf, source):
    import numpy as np
    import sklearn

    check_vectorizer(vec)
    check_classifier(clf)
    n = len(vec.vocabulary_)
    vocabulary = [None] * n
    for term, column in vec.vocabulary_.items():
        vocabulary[column] = term
    if any(t is None for t in vocabulary):
        raise ExportError("vectorizer.vocabulary_: column numbers are not 0..n-1")
    if clf.coef_.shape[1] != n:
        raise ExportError(f"classifier.coef_: {clf.coef_.shape[1]} columns, but the vocabulary "
                          f"has {n} terms")
    model = {
        "format": FORMAT,
        "vectorizer": {
            **({"analyzer": vec.analyzer} if vec.analyzer != "word" else {}),
            "lowercase": bool(vec.lowercase),
            "ngram_range": [int(vec.ngram_range[0]), int(vec.ngram_range[1])],
            "binary": bool(vec.binary),
            "norm": vec.norm,
            "use_idf": bool(vec.use_idf),
            "smooth_idf": bool(vec.smooth_idf),
            "sublinear_tf": bool(vec.sublinear_tf),
            # int: a number of documents; float: a fraction (scikit-learn's rule).
            "min_df": vec.min_df,
            "max_df": vec.max_df,
            "max_features": vec.max_features,
        },
        "provenance": {
            "trainer": f"scikit-learn {sklearn.__version__}",
            "exported_by": "tools/export_sklearn.py",
            "source": os.path.basename(source),
            "classes": json.dumps([c.item() if hasattr(c, "item") else c for c in clf.classes_]),
            "C": repr(float(clf.C)),
        },
        "intercept": json_number(clf.intercept_[0], "classifier.intercept_"),
        "vocabulary": vocabulary,
    }
    if vec.use_idf:
        model["idf"] = [json_number(x, f"vectorizer.idf_[{i}]") for i, x in enumerate(vec.idf_)]
    if vec.sublinear_tf:
        # numpy's vectorised log (used by TfidfTransformer) can differ from the
        # C library's by one ulp; costroute reads these values for counts
        # 1..SUBLINEAR_TABLE instead of computing its own.
        model["sublinear_tf_log"] = [float(x) for x in np.log(np.arange(1, SUBLINEAR_TABLE + 1, dtype=np.float64))]
    model["coef"] = [json_number(x, f"classifier.coef_[0][{i}]") for i, x in enumerate(clf.coef_[0])]
    return model


def write_model(model, path):
    """One top-level field per line; floats as repr(), which reads back exactly."""
    lines = [json.dumps(k, ensure_ascii=False) + ":" +
             json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
             for k, v in model.items()]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    os.replace(tmp, path)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline", help="pickled, fitted Pipeline or (vectorizer, classifier)")
    parser.add_argument("out", help="costroute model file to write")
    args = parser.parse_args(argv)
    try:
        with open(args.pipeline, "rb") as f:
            obj = pickle.load(f)
    except OSError as e:
        print(f"export_sklearn: {args.pipeline}: cannot open: {e.strerror}", file=sys.stderr)
        return 1
    except Exception as e:  # a bad pickle can raise nearly anything
        print(f"export_sklearn: {args.pipeline}: not a readable pickle: {e}", file=sys.stderr)
        return 1
    try:
        vec, clf = split_pipeline(obj)
        model = to_model(vec, clf, args.pipeline)
        write_model(model, args.out)
    except ExportError as e:
        print(f"export_sklearn: {args.pipeline}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"export_sklearn: {args.out}: cannot write: {e.strerror}", file=sys.stderr)
        return 1
    print(f"export_sklearn: wrote {args.out}: {len(model['vocabulary'])} terms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
