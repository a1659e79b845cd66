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
score differently. So is anything costroute's loader would refuse (a
vocabulary term its analyzer cannot produce, more terms than
max_features, ...): every file written loads.

OUT is written as costroute writes its own files (docs/cli.md): beside the
old file and renamed over it, keeping its permissions, so a failed run
leaves the old file; a symbolic link is followed, a pipe or device is
written into rather than replaced; "-", an empty name, a directory and the
input pickle itself are refused before any work. Every failure is one line
on stderr and exit status 1 (2 for a usage error).

Only load pickles you trust: unpickling runs code.
"""

import argparse
import errno
import json
import math
import numbers
import os
import pickle
import stat
import sys
import tempfile
import warnings

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
FORMAT = "costroute.model/1"
# Term counts per query up to which a sublinear_tf model carries numpy's log.
SUBLINEAR_TABLE = 1024
# Limits of costroute's loader (include/costroute/text.h, model.h).
MAX_NGRAM = 8
MAX_WEIGHT = 1e100  # Vectorizer::kMaxWeight: largest |idf|, |coef|, |intercept|
INT32_MAX = 2**31 - 1
MAX_VOCABULARY_BYTES = (2**32 - 1) // 2
# Symbolic links followed before giving up (as the C++ commands).
MAX_LINK_HOPS = 40


class ExportError(Exception):
    pass


def one_line(text):
    """`text` with its line breaks and runs of whitespace as single spaces."""
    return " ".join(str(text).split())


def os_reason(e):
    """The reason an OSError gives: its strerror, or its text."""
    return e.strerror or one_line(e)


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


# Settings may be numpy scalars (min_df=np.int64(2)), which json cannot
# write: each is converted to a Python int or float here, keeping
# scikit-learn's meaning, and checked against what the loader accepts.

def whole_number(x, field):
    """x as a Python int: an int or numpy integer, or a float without a fraction."""
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real) and math.isfinite(float(x)) and float(x).is_integer():
        return int(float(x))
    raise ExportError(f"{field}: expected a whole number, got {x!r}")


def ngram_range(vec):
    """vectorizer.ngram_range as two Python ints, 1 <= min <= max <= MAX_NGRAM."""
    try:
        lo, hi = vec.ngram_range
    except (TypeError, ValueError):
        raise ExportError(f"vectorizer.ngram_range: expected (min, max), got {vec.ngram_range!r}") from None
    lo = whole_number(lo, "vectorizer.ngram_range")
    hi = whole_number(hi, "vectorizer.ngram_range")
    if not (1 <= lo <= hi <= MAX_NGRAM):
        raise ExportError(f"vectorizer.ngram_range: expected 1 <= min <= max <= {MAX_NGRAM}, got ({lo}, {hi})")
    return lo, hi


def document_frequency(x, field):
    """min_df or max_df for JSON: an int is a count of documents, a float a
    fraction (scikit-learn's rule is isinstance(x, numbers.Integral), so
    np.int64(2) counts documents and np.float64(0.5) is a fraction)."""
    if isinstance(x, numbers.Integral):
        x = int(x)
        if not 0 <= x <= INT32_MAX:
            raise ExportError(f"{field}: expected a count of documents in [0, {INT32_MAX}], got {x}")
        return x
    if isinstance(x, numbers.Real):
        x = float(x)  # written with a decimal point, so it reads back as a fraction
        if not 0.0 <= x <= 1.0:
            raise ExportError(f"{field}: a fraction must be in [0, 1], got {x!r}")
        return x
    raise ExportError(f"{field}: expected a number, got {x!r}")


def max_features(vec):
    """vectorizer.max_features as None or a Python int in [1, INT32_MAX]."""
    if vec.max_features is None:
        return None
    if not isinstance(vec.max_features, numbers.Integral) or not 1 <= int(vec.max_features) <= INT32_MAX:
        raise ExportError(f"vectorizer.max_features: expected None or a positive whole number, "
                          f"got {vec.max_features!r}")
    return int(vec.max_features)


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
    # scikit-learn weighs with the TfidfTransformer made at fit time: a
    # setting changed on the vectorizer after fitting is not what it scores
    # with, so the file would not be either.
    fitted = getattr(vec, "_tfidf", None)
    if fitted is not None:
        for name in ("norm", "use_idf", "smooth_idf", "sublinear_tf"):
            if getattr(fitted, name) != getattr(vec, name):
                raise ExportError(f"vectorizer.{name}: {getattr(vec, name)!r} now, but it was fitted with "
                                  f"{getattr(fitted, name)!r}, which scikit-learn goes on using; refit it, "
                                  f"or set it back")


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
    """x as a Python float, finite and within the loader's MAX_WEIGHT."""
    x = float(x)
    if not math.isfinite(x):
        raise ExportError(f"{field}: not a finite number ({x})")
    if abs(x) > MAX_WEIGHT:
        raise ExportError(f"{field}: beyond 1e100 in size ({x!r})")
    return x


def check_terms(vocabulary, analyzer, lo, hi):
    """Refuses a term costroute's loader refuses (Vectorizer::create in
    include/costroute/text.h): not UTF-8, empty, or of a size outside
    ngram_range. A word n-gram's size is its words, one more than its
    spaces (U+0020); a character n-gram's is its code points, and a
    char_wb term may be shorter than the minimum (a short word, kept
    whole). A fixed vocabulary can hold such terms; scikit-learn would
    never match them."""
    unit = "words" if analyzer == "word" else "characters"
    total_bytes = 0
    for i, term in enumerate(vocabulary):
        try:
            total_bytes += len(term.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8, no JSON text
            raise ExportError(f"vocabulary[{i}]: not valid UTF-8") from None
        size = term.count(" ") + 1 if analyzer == "word" else len(term)
        if not term or size > hi or (size < lo and analyzer != "char_wb"):
            raise ExportError(f"vocabulary[{i}]: {json.dumps(term, ensure_ascii=False)} is not a term of "
                              f"{lo}-{hi} {unit} (ngram_range); costroute refuses a model with a term its "
                              f"analyzer cannot produce")
    if len(vocabulary) > INT32_MAX or total_bytes > MAX_VOCABULARY_BYTES:
        raise ExportError("vocabulary: too large")


def provenance_text(s):
    """s as text that is valid UTF-8: a file name's undecodable bytes
    (surrogate escapes) become U+FFFD."""
    return os.fsencode(s).decode("utf-8", "replace")


def to_model(vec, clf, source):
    import numpy as np
    import sklearn

    check_vectorizer(vec)
    check_classifier(clf)
    analyzer = str(vec.analyzer)
    lo, hi = ngram_range(vec)
    min_df = document_frequency(vec.min_df, "vectorizer.min_df")
    max_df = document_frequency(vec.max_df, "vectorizer.max_df")
    limit = max_features(vec)
    n = len(vec.vocabulary_)
    vocabulary = [None] * n
    for term, column in vec.vocabulary_.items():
        if not isinstance(term, str):
            raise ExportError(f"vectorizer.vocabulary_: term {term!r} is not a string")
        column = whole_number(column, "vectorizer.vocabulary_")
        if not 0 <= column < n or vocabulary[column] is not None:
            raise ExportError("vectorizer.vocabulary_: column numbers are not 0..n-1")
        vocabulary[column] = str(term)
    check_terms(vocabulary, analyzer, lo, hi)
    if limit is not None and n > limit:
        # Only a fixed vocabulary can do this: scikit-learn then ignores
        # max_features, but the loader refuses a file with more terms.
        raise ExportError(f"vectorizer.max_features: the vocabulary has {n} terms, more than max_features "
                          f"({limit}), which costroute refuses; with a fixed vocabulary scikit-learn ignores "
                          f"max_features, so set it to None")
    if clf.coef_.shape[1] != n:
        raise ExportError(f"classifier.coef_: {clf.coef_.shape[1]} columns, but the vocabulary "
                          f"has {n} terms")
    classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
    model = {
        "format": FORMAT,
        "vectorizer": {
            **({"analyzer": analyzer} if analyzer != "word" else {}),
            "lowercase": bool(vec.lowercase),
            "ngram_range": [lo, hi],
            "binary": bool(vec.binary),
            "norm": None if vec.norm is None else str(vec.norm),
            "use_idf": bool(vec.use_idf),
            "smooth_idf": bool(vec.smooth_idf),
            "sublinear_tf": bool(vec.sublinear_tf),
            # int: a number of documents; float: a fraction (scikit-learn's rule).
            "min_df": min_df,
            "max_df": max_df,
            "max_features": limit,
        },
        "provenance": {
            "trainer": f"scikit-learn {sklearn.__version__}",
            "exported_by": "tools/export_sklearn.py",
            "source": provenance_text(os.path.basename(source)),
            # Classes of any type: those json cannot write are kept as their repr.
            "classes": json.dumps(classes, default=repr),
            "C": repr(float(clf.C)),
        },
        "intercept": json_number(clf.intercept_[0], "classifier.intercept_"),
        "vocabulary": vocabulary,
    }
    if vec.use_idf:
        if len(vec.idf_) != n:
            raise ExportError(f"vectorizer.idf_: {len(vec.idf_)} values, but the vocabulary has {n} terms")
        model["idf"] = [json_number(x, f"vectorizer.idf_[{i}]") for i, x in enumerate(vec.idf_)]
        # scikit-learn's idf is at least 1; the loader refuses one that is not positive.
        for i, x in enumerate(model["idf"]):
            if not x > 0.0:
                raise ExportError(f"vectorizer.idf_[{i}]: expected a positive number, got {x!r}")
    if vec.sublinear_tf:
        # numpy's vectorised log (used by TfidfTransformer) can differ from the
        # C library's by one ulp; costroute reads these values for counts
        # 1..SUBLINEAR_TABLE instead of computing its own.
        model["sublinear_tf_log"] = [float(x) for x in np.log(np.arange(1, SUBLINEAR_TABLE + 1, dtype=np.float64))]
    model["coef"] = [json_number(x, f"classifier.coef_[0][{i}]") for i, x in enumerate(clf.coef_[0])]
    return model


def model_bytes(model):
    """The file's bytes: one top-level field per line; floats as repr(),
    which reads back exactly."""
    lines = [json.dumps(k, ensure_ascii=False) + ":" +
             json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
             for k, v in model.items()]
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def follow_links(path):
    """The file `path` names through symbolic links; it may not exist yet
    (a link to a file still to be made). OSError on a loop."""
    target = path
    for _ in range(MAX_LINK_HOPS):
        if not os.path.islink(target):
            return target
        # A relative link is relative to the link's directory; join keeps an absolute one.
        target = os.path.join(os.path.dirname(target), os.readlink(target))
    if not os.path.islink(target):
        return target
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


def existing(path):
    """os.stat(path), or None if there is no such file."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def check_output(out, pipeline):
    """Refuses, before any work, an OUT that cannot or must not be written.
    Raises ExportError with the whole message, or OSError."""
    if out == "":
        raise ExportError("OUT: an empty file name")
    if out == "-":
        raise ExportError('-: give a file name to write (the model is not written to standard output)')
    try:
        same = os.path.samefile(out, pipeline)
    except (OSError, ValueError):  # either does not exist (or cannot be looked at)
        same = False
    if same:
        raise ExportError(f"{out} is also the input pickle {pipeline}; not overwriting it")
    target = follow_links(out)
    st = existing(target)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), out)
    if st is None or stat.S_ISREG(st.st_mode):
        # A file is made beside the target and renamed over it.
        directory = os.path.dirname(target) or "."
        if not os.path.isdir(directory):
            code = errno.ENOENT if not os.path.exists(directory) else errno.ENOTDIR
            raise OSError(code, os.strerror(code), out)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), out)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_output(data, out):
    """Writes `data` to `out` as costroute's commands write their files
    (docs/cli.md): a regular file (or none yet) is replaced whole by a
    temporary file renamed over it, keeping its permissions, so a failure
    leaves the old file and no temporary one; a symbolic link is followed
    and stays a link; a FIFO or a device is written into, never replaced."""
    target = follow_links(out)
    st = existing(target)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), out)
    if st is not None and not stat.S_ISREG(st.st_mode):
        fd = os.open(target, os.O_WRONLY)  # no O_CREAT, no O_TRUNC: the pipe or device stays
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        return
    # The permissions to keep; a new file gets 0666 less the umask, as open() would.
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~current_umask()
    # A unique name in the target's directory (the rename must not cross file
    # systems), short enough for any target name.
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(target)[:64] + ".", suffix=".tmp",
                                     dir=os.path.dirname(target) or ".")
    try:
        try:
            write_all(fd, data)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit 2)."""

    def error(self, message):
        self.exit(2, f"export_sklearn: {message} (usage: export_sklearn.py PIPELINE.pkl OUT.json)\n")


def one_line_warning(message, category, filename, lineno, line=None):
    return f"export_sklearn: warning: {one_line(message)}\n"


def main(argv):
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pipeline", help="pickled, fitted Pipeline or (vectorizer, classifier)")
    parser.add_argument("out", help="costroute model file to write")
    args = parser.parse_args(argv)
    # scikit-learn's warnings (a pickle from another version) as one line each.
    warnings.formatwarning = one_line_warning

    def fail(message):
        # One line, whatever the message holds.
        message = str(message).replace("\r", " ").replace("\n", " ")
        print(f"export_sklearn: {message}", file=sys.stderr)
        return 1

    # The output first: a bad OUT is refused before the (slow) work.
    try:
        check_output(args.out, args.pipeline)
    except ExportError as e:
        return fail(e)
    except OSError as e:
        return fail(f"{args.out}: cannot write: {os_reason(e)}")

    try:
        f = open(args.pipeline, "rb")
    except OSError as e:
        return fail(f"{args.pipeline}: cannot open: {os_reason(e)}")
    try:
        with f:
            obj = pickle.load(f)
    except Exception as e:  # a bad pickle can raise nearly anything
        return fail(f"{args.pipeline}: not a readable pickle: {type(e).__name__}: {one_line(e)}")

    try:
        vec, clf = split_pipeline(obj)
        model = to_model(vec, clf, args.pipeline)
        data = model_bytes(model)
    except ExportError as e:
        return fail(f"{args.pipeline}: {e}")
    except Exception as e:  # an object that is not what it claims to be; named, not hidden
        return fail(f"{args.pipeline}: cannot export: {type(e).__name__}: {one_line(e)}")

    try:
        write_output(data, args.out)
    except OSError as e:
        return fail(f"{args.out}: cannot write: {os_reason(e)}")
    print(f"export_sklearn: wrote {args.out}: {len(model['vocabulary'])} terms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
