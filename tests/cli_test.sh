#!/usr/bin/env bash
# End-to-end tests of the `costroute` command: outputs, exit codes and the
# one-line error for each kind of bad input.
# Usage: cli_test.sh PATH/TO/costroute
set -u
costroute=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_error EXIT_CODE "exact stderr line" command...
expect_error() {
  local want_code=$1 want_message=$2
  shift 2
  "$@" >"$dir/out" 2>"$dir/err"
  local code=$?
  local message
  message=$(cat "$dir/err")
  [ "$code" = "$want_code" ] || fail "$*: exit $code, want $want_code ($message)"
  [ "$message" = "$want_message" ] || fail "$*: stderr [$message], want [$want_message]"
}

# A small training set with both labels.
{
  for i in $(seq 1 30); do
    echo "{\"id\":\"cheap-$i\",\"query\":\"what is the capital of country $i\",\"label_small_ok\":1}"
    echo "{\"id\":\"hard-$i\",\"query\":\"prove theorem $i step by step and explain why\",\"label_small_ok\":0}"
  done
} >"$dir/train.jsonl"

# train, then score: one line per input, ids echoed, probabilities sensible.
"$costroute" train --data "$dir/train.jsonl" --out "$dir/m.json" --max-features 100 >"$dir/train.out" 2>"$dir/err" ||
  fail "train exited $?: $(cat "$dir/err")"
grep -q '"converged":true' "$dir/train.out" || fail "train did not converge: $(cat "$dir/train.out")"
grep -q '"format":"costroute.model/1"' "$dir/m.json" || fail "model file lacks its format"

printf '%s\n' '{"id":"a","query":"what is the capital of country 99"}' \
  '{"query":"prove theorem 99 step by step and explain why"}' '' \
  '{"id":42,"query":""}' '{"id":1E2,"query":"x"}' >"$dir/in.jsonl"
"$costroute" score --model "$dir/m.json" --data "$dir/in.jsonl" >"$dir/scores" 2>"$dir/err" ||
  fail "score exited $?: $(cat "$dir/err")"
[ "$(wc -l <"$dir/scores")" = 4 ] || fail "score printed $(wc -l <"$dir/scores") lines, want 4"
sed -n 1p "$dir/scores" | grep -Eq '^\{"id":"a","p_small_ok":0\.[5-9][0-9]*\}$' || fail "line 1: $(sed -n 1p "$dir/scores")"
sed -n 2p "$dir/scores" | grep -Eq '^\{"id":2,"p_small_ok":0\.[0-4][0-9]*\}$' || fail "line 2: $(sed -n 2p "$dir/scores")"
sed -n 3p "$dir/scores" | grep -Eq '^\{"id":42,"p_small_ok":0\.[0-9]+\}$' || fail "line 3: $(sed -n 3p "$dir/scores")"
# A number id comes back as written, so that scripts can join on it.
sed -n 4p "$dir/scores" | grep -Eq '^\{"id":1E2,"p_small_ok":0\.[0-9]+\}$' || fail "line 4: $(sed -n 4p "$dir/scores")"
# An endless model or config is refused with a message, not read until memory runs out.
expect_error 1 "costroute score: /dev/zero: larger than 256 MiB, more than any model or config" \
  "$costroute" score --model /dev/zero --data "$dir/in.jsonl"
expect_error 1 "costroute route: /dev/zero: larger than 256 MiB, more than any model or config" \
  "$costroute" route --config /dev/zero --data "$dir/in.jsonl"
# An output that cannot be written is reported before any work (here, before
# reading the data, which would fail too).
for command in "train --out" "eval --cv 3 --plot" "calibrate --model $dir/m.json --config $dir/config.json --out"; do
  expect_error 1 "costroute ${command%% *}: $dir/no_such_dir/out: cannot write: No such file or directory" \
    "$costroute" $command "$dir/no_such_dir/out" --data "$dir/no_such_data.jsonl"
done
expect_error 1 "costroute train: $dir: cannot write: Is a directory" \
  "$costroute" train --out "$dir" --data "$dir/train.jsonl"
# So is a data file without line breaks, at its first line.
expect_error 1 "costroute score: /dev/zero:1: longer than 64 MiB: not one JSON record per line?" \
  "$costroute" score --model "$dir/m.json" --data /dev/zero
# A read error (EIO from /proc/self/mem) is an error, not a short file.
expect_error 1 "costroute score: /proc/self/mem: read error after line 0" \
  "$costroute" score --model "$dir/m.json" --data /proc/self/mem
# Output that cannot be written is an error, not a success with lines missing:
# on a full device and on a closed stdout.
if [ -w /dev/full ]; then
  "$costroute" score --model "$dir/m.json" --data "$dir/in.jsonl" >/dev/full 2>"$dir/err" &&
    fail "score to /dev/full exited 0"
  grep -q "^costroute score: cannot write standard output" "$dir/err" || fail "score to /dev/full: stderr [$(cat "$dir/err")]"
fi
"$costroute" score --model "$dir/m.json" --data "$dir/train.jsonl" >&- 2>"$dir/err" && fail "score to a closed stdout exited 0"
grep -q "^costroute score: cannot write standard output" "$dir/err" || fail "score to a closed stdout: stderr [$(cat "$dir/err")]"

# standard input
"$costroute" score --model "$dir/m.json" --data - <"$dir/in.jsonl" | cmp -s - "$dir/scores" ||
  fail "score from stdin differs"

# tokenize
echo '{"query":"Don'"'"'t panic: \u0130stanbul 3.14"}' | "$costroute" tokenize --data - >"$dir/tokens"
[ "$(cat "$dir/tokens")" = '{"id":1,"tokens":["don","panic","stanbul","14"]}' ] ||
  fail "tokenize: $(cat "$dir/tokens")"

# a 1 MB query
python3 -c 'import json; print(json.dumps({"query": "explain why " * 90000}))' >"$dir/big.jsonl"
"$costroute" score --model "$dir/m.json" --data "$dir/big.jsonl" | grep -q p_small_ok ||
  fail "1 MB query not scored"

# bench
"$costroute" bench --model "$dir/m.json" --data "$dir/train.jsonl" --min-seconds 0.2 >"$dir/bench" 2>"$dir/err" ||
  fail "bench exited $?: $(cat "$dir/err")"
for field in p50_ns p99_ns batch_qps; do
  grep -q "\"$field\":[0-9]" "$dir/bench" || fail "bench output lacks $field: $(cat "$dir/bench")"
done

# usage errors
"$costroute" eval --help >"$dir/help" || fail "eval --help exited $?"
grep -q -- "--skip-incomplete" "$dir/help" || fail "eval --help lacks its flags: $(cat "$dir/help")"
grep -q "tokenize" "$dir/help" && fail "eval --help shows other commands: $(cat "$dir/help")"
# Every flag a command's synopsis shows is one it accepts (an unknown flag is refused by name).
for command in train route score eval calibrate bench tokenize signals; do
  for flag in $("$costroute" "$command" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    "$costroute" "$command" "$flag" x </dev/null >/dev/null 2>"$dir/err"
    grep -q "unknown flag $flag" "$dir/err" && fail "$command --help shows $flag, which $command refuses"
  done
done
expect_error 2 'costroute: unknown command "frobnicate" (costroute --help lists the commands)' "$costroute" frobnicate
expect_error 1 "costroute score: missing --model" "$costroute" score --data "$dir/in.jsonl"
expect_error 1 "costroute score: unknown flag --modle" "$costroute" score --modle "$dir/m.json"
expect_error 1 'costroute train: --C: expected a number, got "abc"' \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --C abc
expect_error 1 'costroute train: --ngram: expected two whole numbers such as 1,2, got "12"' \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --ngram 12
expect_error 1 "costroute train: --C: expected a number in (0, 1e12], got -1" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --C -1
expect_error 1 "costroute train: --analyzer: expected word, char or char_wb" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --analyzer chars
# --tune on data with labels only needs the costs, which --cost-small and --cost-large give.
expect_error 1 "costroute train: $dir/train.jsonl:1: missing field \"cost_small\" (or pass --cost-small)" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tune
"$costroute" train --data "$dir/train.jsonl" --out "$dir/tuned.json" --tune --cost-small 0.1 --cost-large 1 \
  >/dev/null 2>"$dir/err" || fail "train --tune with --cost-small exited $?: $(cat "$dir/err")"
grep -q '"tuned":"C=[^"]* (5-fold CV, by APGR)"' "$dir/tuned.json" || fail "tuned model lacks its provenance"
# The last line of the search names the settings the model was trained with.
chose=$(tail -n 1 "$dir/err" | sed -n 's/^costroute train --tune: chose \(C=[^:]*\): savings .*/\1/p')
[ -n "$chose" ] && grep -qF "\"tuned\":\"$chose (5-fold CV" "$dir/tuned.json" ||
  fail "train --tune's last line does not name the winner: $(tail -n 1 "$dir/err")"
# --tune-by chooses what the search compares; auto, apgr and savings are accepted, nothing else.
"$costroute" train --data "$dir/train.jsonl" --out "$dir/tuned_savings.json" --tune --tune-by savings \
  --cost-small 0.1 --cost-large 1 >/dev/null 2>"$dir/err" || fail "train --tune --tune-by savings: $(cat "$dir/err")"
grep -q '"tuned":"C=[^"]* (5-fold CV, by savings at 3% drop)"' "$dir/tuned_savings.json" ||
  fail "the provenance of --tune-by savings: $(grep -o '"tuned":"[^"]*"' "$dir/tuned_savings.json")"
# On graded scores (a judge's 1-10) the default, auto, compares settings
# that learn the cheaper models' quality by rank correlation, and says so;
# --tune-by apgr compares them by APGR.
for i in $(seq 1 40); do
  words=(tidy sort explain prove derive list)
  small=$((1 + i * 7 % 10)) large=$((4 + i % 7))
  echo "{\"query\":\"${words[$((i % 6))]} item $i\",\"label_small_ok\":$((small >= large ? 1 : 0)),\"quality\":{\"s\":$small,\"l\":$large,\"x\":$((1 + i * i % 10))},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
done >"$dir/graded.jsonl"
"$costroute" train --data "$dir/graded.jsonl" --out "$dir/tuned_graded.json" --tune --cost-small 0.1 --cost-large 1 \
  >/dev/null 2>"$dir/err" || fail "train --tune on graded scores: $(cat "$dir/err")"
grep -q "target=cheap-quality.*: savings .*, APGR [0-9.]*, rank correlation -\?[0-9]\.[0-9]\{4\}$" "$dir/err" ||
  fail "train --tune on graded scores prints no rank correlation: $(cat "$dir/err")"
grep -q '"tuned":"C=[^"]* (5-fold CV, by rank correlation with the cheaper models'"'"' quality, targets by APGR)"' \
  "$dir/tuned_graded.json" || fail "the provenance of auto on graded scores: $(grep -o '"tuned":"[^"]*"' "$dir/tuned_graded.json")"
"$costroute" train --data "$dir/graded.jsonl" --out "$dir/tuned_graded_apgr.json" --tune --tune-by apgr \
  --cost-small 0.1 --cost-large 1 >/dev/null 2>"$dir/err" || fail "train --tune --tune-by apgr: $(cat "$dir/err")"
grep -q '"tuned":"C=[^"]* (5-fold CV, by APGR)"' "$dir/tuned_graded_apgr.json" ||
  fail "the provenance of --tune-by apgr on graded scores: $(grep -o '"tuned":"[^"]*"' "$dir/tuned_graded_apgr.json")"
expect_error 1 "costroute train: --tune-by: expected auto, apgr or savings" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tune --tune-by auc --cost-small 0.1 --cost-large 1
expect_error 1 "costroute train: --tune-by does not apply without --tune" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tune-by apgr
expect_error 1 "costroute eval: --tune-by does not apply without --tune" \
  "$costroute" eval --cv 3 --data "$dir/train.jsonl" --tune-by apgr --cost-small 0.1 --cost-large 1
expect_error 1 "costroute train: --learn does not apply with --tune, which chooses what to learn" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tune --learn label --cost-small 0.1 --cost-large 1
expect_error 1 "costroute eval: --learn does not apply with --tune, which chooses what to learn" \
  "$costroute" eval --cv 3 --data "$dir/train.jsonl" --tune --learn quality-gap --cost-small 0.1 --cost-large 1
for command in "train --out $dir/x.json" "eval --cv 3"; do
  expect_error 1 "costroute ${command%% *}: --win-c-factor does not apply with --tune, which chooses what to learn" \
    "$costroute" $command --data "$dir/train.jsonl" --tune --win-c-factor 3 --cost-small 0.1 --cost-large 1
done
expect_error 1 "costroute train: --max-quality-drop: expected a number in [0, 1]" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tune --max-quality-drop 5 --cost-small 0.1 --cost-large 1
# A problem of the whole data set is named by its file, not blamed on a fold.
head -n 6 "$dir/train.jsonl" | grep '"label_small_ok": *1' >"$dir/ones.jsonl"
[ -s "$dir/ones.jsonl" ] || fail "no label-1 records for ones.jsonl"
for cmd in "eval --cv 2" "calibrate --cv 2" "train --tune --cv 2 --out $dir/x.json"; do
  expect_error 1 "costroute ${cmd%% *}: $dir/ones.jsonl: labels: every example has label 1; training needs examples of both 0 and 1" \
    "$costroute" $cmd --data "$dir/ones.jsonl" --cost-small 0.1 --cost-large 1
done
# Nested tuning says which outer fold, and that its inner cross validation needs 5 records.
head -n 6 "$dir/train.jsonl" >"$dir/six.jsonl"
expect_error 1 "costroute eval: $dir/six.jsonl: outer fold 1 of 2: tuning by 5-fold cross validation inside its 3 training records: folds: expected between 2 and the number of examples (3), got 5" \
  "$costroute" eval --cv 2 --tune --data "$dir/six.jsonl" --cost-small 0.1 --cost-large 1
# Character n-grams train and score.
"$costroute" train --data "$dir/train.jsonl" --out "$dir/char.json" --analyzer char_wb --ngram 2,4 2>/dev/null
grep -q '"analyzer":"char_wb"' "$dir/char.json" || fail "char_wb model lacks its analyzer"
[ "$("$costroute" score --model "$dir/char.json" --data "$dir/train.jsonl" | wc -l)" -eq "$(grep -c . "$dir/train.jsonl")" ] ||
  fail "char_wb model does not score every record"

# bad files
expect_error 1 "costroute score: $dir/none.json: cannot open: No such file or directory" \
  "$costroute" score --model "$dir/none.json" --data "$dir/in.jsonl"
head -c 300 "$dir/m.json" >"$dir/truncated.json"
expect_error 1 "costroute score: $dir/truncated.json:4:92: not valid JSON: unclosed string (truncated?)" \
  "$costroute" score --model "$dir/truncated.json" --data "$dir/in.jsonl"
sed 's/"costroute.model\/1"/"costroute.model\/2"/' "$dir/m.json" >"$dir/v2.json"
expect_error 1 "costroute score: $dir/v2.json: format: unknown model format \"costroute.model/2\"; this build reads costroute.model/1" \
  "$costroute" score --model "$dir/v2.json" --data "$dir/in.jsonl"

printf '%s\n' '{"query":"fine"}' '{"query": "broken' >"$dir/badline.jsonl"
expect_error 1 "costroute score: $dir/badline.jsonl:2: column 18: not valid JSON: unclosed string (truncated?)" \
  "$costroute" score --model "$dir/m.json" --data "$dir/badline.jsonl"
printf '%s\n' '{"text":"no query"}' >"$dir/noquery.jsonl"
expect_error 1 "costroute score: $dir/noquery.jsonl:1: missing field \"query\"" \
  "$costroute" score --model "$dir/m.json" --data "$dir/noquery.jsonl"
# Bytes that are not UTF-8 read as U+FFFD, as the router reads them.
printf '{"query":"bad \xff byte"}\n{"query":"bad \xef\xbf\xbd byte"}\n' >"$dir/badutf8.jsonl"
"$costroute" score --model "$dir/m.json" --data "$dir/badutf8.jsonl" >"$dir/out" 2>"$dir/err" ||
  fail "score refused bytes that are not UTF-8: $(cat "$dir/err")"
[ "$(wc -l <"$dir/out")" = 2 ] && [ "$(cut -d, -f2 "$dir/out" | sort -u | wc -l)" = 1 ] ||
  fail "bytes that are not UTF-8 scored unlike U+FFFD: $(cat "$dir/out")"
# Outside a string they are still a syntax error.
printf '{"query":"x",\xff}\n' >"$dir/badsyntax.jsonl"
expect_error 1 "costroute score: $dir/badsyntax.jsonl:1: column 14: not valid JSON: unbalanced braces or brackets, or a missing comma or colon (truncated?)" \
  "$costroute" score --model "$dir/m.json" --data "$dir/badsyntax.jsonl"
# A raw tab inside a string is named as such.
printf '{"query":"a\tb"}\n' >"$dir/tab.jsonl"
expect_error 1 "costroute score: $dir/tab.jsonl:1: column 12: not valid JSON: a control character (a tab, a line break, a NUL byte) inside a string, where it must be escaped (\\t, \\n, \\u0000); or text that is not UTF-8 (UTF-16?)" \
  "$costroute" score --model "$dir/m.json" --data "$dir/tab.jsonl"
printf '%s\n' '{"query":"x","id":[1]}' >"$dir/badid.jsonl"
expect_error 1 "costroute score: $dir/badid.jsonl:1: field \"id\": expected a string or a number" \
  "$costroute" score --model "$dir/m.json" --data "$dir/badid.jsonl"
printf '%s\n' '{"query":"only one class","label_small_ok":1}' >"$dir/oneclass.jsonl"
expect_error 1 "costroute train: $dir/oneclass.jsonl: labels: every example has label 1; training needs examples of both 0 and 1" \
  "$costroute" train --data "$dir/oneclass.jsonl" --out "$dir/x.json"
printf '%s\n' '{"query":"no label"}' >"$dir/nolabel.jsonl"
expect_error 1 "costroute train: $dir/nolabel.jsonl:1: missing field \"label_small_ok\" (or \"label\", or a \"quality\" map)" \
  "$costroute" train --data "$dir/nolabel.jsonl" --out "$dir/x.json"
: >"$dir/empty.jsonl"
expect_error 1 "costroute train: $dir/empty.jsonl: no records" \
  "$costroute" train --data "$dir/empty.jsonl" --out "$dir/x.json"

# eval on routing-format data
{
  for i in $(seq 1 20); do
    echo "{\"id\":\"e$i\",\"query\":\"what is the capital of country $i\",\"quality\":{\"s\":1,\"l\":1},\"meta\":{\"small\":\"s\",\"large\":\"l\"},\"cost_small\":0.1,\"cost_large\":1}"
    echo "{\"id\":\"h$i\",\"query\":\"prove theorem $i step by step and explain why\",\"quality\":{\"s\":0,\"l\":1},\"meta\":{\"small\":\"s\",\"large\":\"l\"},\"cost_small\":0.1,\"cost_large\":1}"
  done
} >"$dir/routing.jsonl"
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --json --plot "$dir/curve.svg" >"$dir/eval" 2>"$dir/err" ||
  fail "eval exited $?: $(cat "$dir/err")"
for field in '"n":40' savings_at_max_drop apgr cpt50 cpt80 auc threshold '"random":{' '"oracle":{'; do
  grep -q "$field" "$dir/eval" || fail "eval --json lacks $field: $(cat "$dir/eval")"
done
grep -q '"savings_at_max_drop":0.4[0-9]*' "$dir/eval" || fail "eval: expected the router to save 45%: $(cat "$dir/eval")"
grep -q "</svg>" "$dir/curve.svg" || fail "eval --plot wrote no SVG"
# A descriptor's name is written through the descriptor, after what was
# printed: a file the shell redirects to keeps the table and the picture,
# and a pipe takes both.
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot /dev/stdout >"$dir/both" 2>"$dir/err" ||
  fail "eval --plot /dev/stdout exited $?: $(cat "$dir/err")"
grep -q "^router" "$dir/both" && grep -q "</svg>" "$dir/both" ||
  fail "eval --plot /dev/stdout lost the table or the picture: $(head -c 300 "$dir/both")"
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot /dev/stdout 2>"$dir/err" | cat >"$dir/piped" ||
  fail "eval --plot /dev/stdout into a pipe failed: $(cat "$dir/err")"
cmp -s "$dir/both" "$dir/piped" || fail "eval --plot /dev/stdout wrote another text into a pipe than into a file"
expect_error 1 "costroute eval: /dev/fd/9: cannot write: Bad file descriptor" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot /dev/fd/9
# A link to standard output into a pipe is written through it too; the
# regular file standard output goes to is refused before any work, since
# replacing it would lose the table and writing into it would mix the two.
ln -s /dev/stdout "$dir/to_stdout.svg"
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot "$dir/to_stdout.svg" 2>"$dir/err" | cat >"$dir/linked" ||
  fail "eval --plot LINK-TO-STDOUT into a pipe failed: $(cat "$dir/err")"
cmp -s "$dir/both" "$dir/linked" || fail "eval --plot LINK-TO-STDOUT wrote another text than --plot /dev/stdout"
echo keep >"$dir/same_out.txt"
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot "$dir/same_out.txt" >>"$dir/same_out.txt" 2>"$dir/err" &&
  fail "eval --plot FILE >>FILE was not refused"
[ "$(cat "$dir/err")" = "costroute eval: $dir/same_out.txt: cannot write: it is the file standard output goes to; name it once (as /dev/stdout for both in one file)" ] ||
  fail "eval --plot FILE >>FILE: stderr [$(cat "$dir/err")]"
[ "$(cat "$dir/same_out.txt")" = keep ] || fail "eval --plot FILE >>FILE changed the file"
expect_error 1 "costroute eval: /dev/stdin: cannot write: open only for reading" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot /dev/stdin <"$dir/same_out.txt"
[ "$(cat "$dir/same_out.txt")" = keep ] || fail "eval --plot /dev/stdin <FILE changed the file"
# An outcome is not a feature: it is unknown when a request is routed.
expect_error 1 "costroute eval: --context-fields: \"label_small_ok\" is a label, known only after the models answer; a context field must be known when the request is routed" \
  "$costroute" eval --cv 4 --data "$dir/routing.jsonl" --context-fields meta.small,label_small_ok
expect_error 1 "costroute train: --context-fields: \"quality.s\" is the models' quality, known only after the models answer; a context field must be known when the request is routed" \
  "$costroute" train --data "$dir/routing.jsonl" --out "$dir/x.json" --context-fields quality.s
expect_error 1 "costroute eval: --context-fields: \"cost_small\" is the --weight-field; a field is a weight or a feature" \
  "$costroute" eval --cv 4 --data "$dir/routing.jsonl" --context-fields cost_small --weight-field cost_small
# Sets on two quality scales are not measured as one.
sed 's/"meta":{/"meta":{"quality_scale":"correct (1\/0)",/' "$dir/routing.jsonl" >"$dir/scale01.jsonl"
sed 's/"meta":{/"meta":{"quality_scale":"judge 1-10",/' "$dir/routing.jsonl" | sed 's/"e\([0-9]*\)"/"j\1"/; s/"h\([0-9]*\)"/"k\1"/' >"$dir/scale10.jsonl"
expect_error 1 "costroute eval: $dir/scale10.jsonl:1: meta.quality_scale is \"judge 1-10\", but $dir/scale01.jsonl:1 has \"correct (1/0)\": scores on two scales cannot be measured as one (evaluate each set apart, or give the other set as --extra-data)" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/scale01.jsonl,$dir/scale10.jsonl"
"$costroute" eval --model "$dir/m.json" --data "$dir/scale01.jsonl" >/dev/null 2>"$dir/err" ||
  fail "eval on one scale failed: $(cat "$dir/err")"
# A label means the same on any scale; the scores do not.
"$costroute" train --data "$dir/scale01.jsonl,$dir/scale10.jsonl" --out "$dir/x.json" >/dev/null 2>"$dir/err" ||
  fail "train on the labels of two scales failed: $(cat "$dir/err")"
expect_error 1 "costroute train: $dir/scale10.jsonl:1: meta.quality_scale is \"judge 1-10\", but $dir/scale01.jsonl:1 has \"correct (1/0)\": scores on two scales cannot be measured as one (evaluate each set apart, or give the other set as --extra-data)" \
  "$costroute" train --data "$dir/scale01.jsonl,$dir/scale10.jsonl" --out "$dir/x.json" --learn cheap-quality
# An extra set is mapped onto the data's scale as a whole: one scale per file.
sed 's/"e\([0-9]*\)"/"x\1"/; s/"h\([0-9]*\)"/"y\1"/; s/country/nation/; s/theorem/lemma/' "$dir/scale10.jsonl" >"$dir/scale10b.jsonl"
cat "$dir/scale01.jsonl" "$dir/scale10b.jsonl" >"$dir/two_scales.jsonl"
expect_error 1 "costroute train: $dir/two_scales.jsonl:41: meta.quality_scale is \"judge 1-10\", but $dir/two_scales.jsonl:1 has \"correct (1/0)\": scores on two scales cannot be measured as one (evaluate each set apart, or give the other set as --extra-data)" \
  "$costroute" train --data "$dir/scale10.jsonl" --extra-data "$dir/two_scales.jsonl" --out "$dir/x.json" --learn cheap-quality
# A small model dearer than the strong one somewhere is worth a warning.
sed '3s/"cost_small":0.1/"cost_small":2/' "$dir/routing.jsonl" >"$dir/dearer.jsonl"
"$costroute" eval --model "$dir/m.json" --data "$dir/dearer.jsonl" >/dev/null 2>"$dir/err" || fail "eval with a dearer small model failed"
[ "$(cat "$dir/err")" = "costroute eval: warning: in 1 of 40 records (the first at $dir/dearer.jsonl:3) cost_small is above cost_large: the small model costs more there, so sending it those prompts costs more, not less" ] ||
  fail "eval with a dearer small model: stderr [$(cat "$dir/err")]"
"$costroute" eval --cv 4 --data "$dir/routing.jsonl" --max-features 50 >"$dir/eval_cv" 2>"$dir/err" ||
  fail "eval --cv exited $?: $(cat "$dir/err")"
grep -q "^router" "$dir/eval_cv" || fail "eval --cv printed no table: $(cat "$dir/eval_cv")"
# The folds train side by side; one thread or three, the same result.
for threads in 1 3; do
  "$costroute" eval --cv 4 --data "$dir/routing.jsonl" --max-features 50 --threads $threads >"$dir/eval_cv_$threads" 2>"$dir/err" ||
    fail "eval --cv --threads $threads exited $?: $(cat "$dir/err")"
  cmp -s "$dir/eval_cv" "$dir/eval_cv_$threads" || fail "eval --cv differs with --threads $threads"
done
expect_error 1 "costroute eval: --threads: expected a value in [1, 256], got 0" \
  "$costroute" eval --cv 4 --data "$dir/routing.jsonl" --threads 0
expect_error 1 "costroute eval: --threads does not apply with --model, whose scores are used as they are" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --threads 2
# --learn quality-gap learns the gap between the two models' scores, which
# only routing records (with a "quality" map) give.
"$costroute" train --data "$dir/routing.jsonl" --out "$dir/gap.json" --learn quality-gap >/dev/null 2>"$dir/err" ||
  fail "train --learn quality-gap exited $?: $(cat "$dir/err")"
grep -q '"target": *"quality_gap"' "$dir/gap.json" || fail "the model does not record its target: $(cat "$dir/gap.json")"
"$costroute" eval --cv 4 --data "$dir/routing.jsonl" --max-features 50 --learn quality-gap >"$dir/eval_gap" 2>"$dir/err" ||
  fail "eval --cv --learn quality-gap exited $?: $(cat "$dir/err")"
grep -q "^router" "$dir/eval_gap" || fail "eval --cv --learn quality-gap printed no table: $(cat "$dir/eval_gap")"
for learn in gap quality_gap cheap; do
  expect_error 1 "costroute train: --learn: expected label, quality-gap, cheap-quality or label-and-win" \
    "$costroute" train --data "$dir/routing.jsonl" --out "$dir/x.json" --learn $learn
done
expect_error 1 "costroute train: $dir/train.jsonl:1: missing field \"quality\" (--learn quality-gap, cheap-quality and label-and-win learn from the models' scores)" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --learn quality-gap
expect_error 1 "costroute train: $dir/train.jsonl:1: missing field \"quality\" (--learn quality-gap, cheap-quality and label-and-win learn from the models' scores)" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --learn cheap-quality
# --learn cheap-quality learns the mean score of every model but the strong
# one: a third model scored 0 or 1 beside a small one scored 1 teaches the
# same as the small one scored 0.5 or 1 alone. The strong model's scores
# differ, so counting them in would teach otherwise.
for i in $(seq 1 12); do
  echo "{\"query\":\"summarise note $i\",\"label_small_ok\":1,\"quality\":{\"s\":1,\"l\":1,\"x\":1},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
  echo "{\"query\":\"derive result $i\",\"label_small_ok\":0,\"quality\":{\"x\":0,\"s\":1,\"l\":0},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
  echo "{\"query\":\"explain topic $i\",\"label_small_ok\":1,\"quality\":{\"s\":0,\"l\":1,\"x\":1},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
done >"$dir/three.jsonl"
sed -e 's/"s":1,"l":1,"x":1/"s":1,"l":1/' -e 's/"x":0,"s":1,"l":0/"s":0.5,"l":0/' -e 's/"s":0,"l":1,"x":1/"s":0.5,"l":1/' \
  "$dir/three.jsonl" >"$dir/two.jsonl"
for f in three two; do
  "$costroute" train --data "$dir/$f.jsonl" --out "$dir/cheap_$f.json" --learn cheap-quality >/dev/null 2>"$dir/err" ||
    fail "train --learn cheap-quality on $f models exited $?: $(cat "$dir/err")"
  "$costroute" score --model "$dir/cheap_$f.json" --data "$dir/three.jsonl" >"$dir/cheap_$f.scores" || fail "score $f"
done
grep -q '"target": *"cheap_quality"' "$dir/cheap_three.json" || fail "the model does not record its target: $(cat "$dir/cheap_three.json")"
cmp -s "$dir/cheap_three.scores" "$dir/cheap_two.scores" || fail "cheap-quality: a third model's scores were not averaged in"
"$costroute" train --data "$dir/three.jsonl" --out "$dir/label3.json" >/dev/null 2>&1 || fail "train on three models"
"$costroute" score --model "$dir/label3.json" --data "$dir/three.jsonl" >"$dir/label3.scores" || fail "score label3"
cmp -s "$dir/cheap_three.scores" "$dir/label3.scores" && fail "cheap-quality learned the same as the label"
# --learn label-and-win adds a second head for the prompts where the small
# model did better (here "derive result": s right, l wrong); routing.jsonl
# has none, so there it is refused.
"$costroute" train --data "$dir/three.jsonl" --out "$dir/win.json" --learn label-and-win >/dev/null 2>"$dir/err" ||
  fail "train --learn label-and-win exited $?: $(cat "$dir/err")"
grep -q '"target": *"label_and_win"' "$dir/win.json" || fail "the model does not record its target: $(cat "$dir/win.json")"
grep -q '"win_head": *{"weight": *0.5' "$dir/win.json" || fail "the model has no win head: $(cat "$dir/win.json")"
"$costroute" score --model "$dir/win.json" --data "$dir/three.jsonl" >"$dir/win.scores" || fail "score win"
cmp -s "$dir/win.scores" "$dir/label3.scores" && fail "label-and-win scored as the label alone"
"$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --learn label-and-win --max-iter 1 >/dev/null 2>"$dir/err" ||
  fail "train --learn label-and-win --max-iter 1 exited $?: $(cat "$dir/err")"
grep -q "^costroute train: warning: the solver stopped after 2 iterations of its two heads before converging (.*); raise --max-iter$" "$dir/err" ||
  fail "two heads at the iteration limit: $(cat "$dir/err")"
expect_error 1 "costroute train: $dir/routing.jsonl: quality_gap: no example where the small model did better than the strong one (a gap above 0); learning the small model's wins needs both" \
  "$costroute" train --data "$dir/routing.jsonl" --out "$dir/x.json" --learn label-and-win
# --win-c-factor: the win head's C as a multiple of C, recorded in the
# model; only where there is a win head.
"$costroute" train --data "$dir/three.jsonl" --out "$dir/win3.json" --learn label-and-win --win-c-factor 3 >/dev/null 2>"$dir/err" ||
  fail "train --win-c-factor 3 exited $?: $(cat "$dir/err")"
grep -q '"win_C_factor": *"3"' "$dir/win3.json" || fail "the model does not record its win head's C: $(cat "$dir/win3.json")"
grep -q '"win_C_factor": *"1"' "$dir/win.json" || fail "the model does not record its win head's C: $(cat "$dir/win.json")"
grep -q '"win_C_factor"' "$dir/label3.json" && fail "a model without a win head records a win head's C"
"$costroute" score --model "$dir/win3.json" --data "$dir/three.jsonl" >"$dir/win3.scores" || fail "score win3"
cmp -s "$dir/win3.scores" "$dir/win.scores" && fail "--win-c-factor 3 scored as 1"
expect_error 1 "costroute train: --win-c-factor: only with --learn label-and-win, which has a win head" \
  "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --win-c-factor 3
expect_error 1 "costroute eval: --win-c-factor: only with --learn label-and-win, which has a win head" \
  "$costroute" eval --cv 3 --data "$dir/three.jsonl" --learn quality-gap --win-c-factor 3
for bad in "0 0" "1e13 1e+13" "-2 -2"; do
  set -- $bad
  expect_error 1 "costroute train: --win-c-factor: expected a number above 0 that keeps C times it at most 1e12, got $2" \
    "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --learn label-and-win --win-c-factor "$1"
done
sed 's/"large":"l"/"large":"s"/' "$dir/three.jsonl" >"$dir/same.jsonl"
expect_error 1 "costroute train: $dir/same.jsonl:1: meta.small and meta.large both name s: routing needs two models" \
  "$costroute" train --data "$dir/same.jsonl" --out "$dir/x.json" --learn cheap-quality
for command in eval calibrate; do
  expect_error 1 "costroute $command: $dir/train.jsonl:1: missing field \"quality\" (--learn quality-gap, cheap-quality and label-and-win learn from the models' scores)" \
    "$costroute" $command --cv 4 --data "$dir/train.jsonl" --cost-small 0.1 --cost-large 1 --learn quality-gap
  # The flag is checked before the data is read.
  expect_error 1 "costroute $command: --learn: expected label, quality-gap, cheap-quality or label-and-win" \
    "$costroute" $command --cv 4 --data "$dir/train.jsonl" --learn gap
done
# eval says whether the router beats random beyond the data's noise.
grep -q "^against random, over the whole curve: APGR .* above random in 100.0% of resamples: reliably better" "$dir/eval_cv" ||
  fail "eval --cv on separable data: $(cat "$dir/eval_cv")"
for field in '"apgr_ci":\[0\.' '"apgr_above_random":1,' '"bootstrap":1000,'; do
  grep -q "$field" "$dir/eval" || fail "eval --json lacks $field: $(cat "$dir/eval")"
done
expect_error 1 "costroute eval: --bootstrap: expected a value in [10, 1000000], got 5" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --bootstrap 5
# --seed seeds the bootstrap, also with --model; one seed, one result.
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --json --bootstrap 10 --seed 1 >"$dir/b1" &&
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --json --bootstrap 10 --seed 1 >"$dir/b1again" &&
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --json --bootstrap 10 --seed 2 >"$dir/b2" ||
  fail "eval --model --seed was refused"
cmp -s "$dir/b1" "$dir/b1again" || fail "eval's bootstrap differs between two runs with one seed"
expect_error 1 "costroute eval: missing --model (or --cv K to train and score by cross validation)" \
  "$costroute" eval --data "$dir/routing.jsonl"
expect_error 1 "costroute eval: --cv: expected a value in [2, 1000000], got 0" \
  "$costroute" eval --cv 0 --data "$dir/routing.jsonl"
# Whole numbers are digits only, and a flag given empty is no flag left out.
expect_error 1 'costroute eval: --cv: expected a whole number, got " 3"' \
  "$costroute" eval --cv " 3" --data "$dir/routing.jsonl"
expect_error 1 'costroute eval: --cv: expected a whole number, got "+3"' \
  "$costroute" eval --cv +3 --data "$dir/routing.jsonl"
expect_error 1 "costroute eval: --cv: expected a value in [2, 1000000], got 99999999999999999999" \
  "$costroute" eval --cv 99999999999999999999 --data "$dir/routing.jsonl"
expect_error 1 "costroute train: --context-fields: empty value (leave the flag out for its default)" \
  "$costroute" train --data "$dir/routing.jsonl" --out "$dir/x.json" --context-fields ""
expect_error 1 "costroute train: --out: empty value (leave the flag out for its default)" \
  "$costroute" train --data "$dir/routing.jsonl" --out=
expect_error 1 'costroute train: --data: an empty entry in "," (entries are separated by commas)' \
  "$costroute" train --data , --out "$dir/x.json"
expect_error 1 'costroute eval: --data: an empty entry in "'"$dir"'/routing.jsonl," (entries are separated by commas)' \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl,"
# A file given twice would count every record twice.
expect_error 1 "costroute eval: --data: $dir/routing.jsonl given twice" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl,$dir/routing.jsonl"
expect_error 1 "costroute eval: --model and --cv exclude each other: --cv trains its own models" \
  "$costroute" eval --model "$dir/m.json" --cv 5 --data "$dir/routing.jsonl"
printf '%s\n' '{"query":"x","quality":{"s":1},"meta":{"small":"s","large":"l"},"cost_small":0.1,"cost_large":1}' >"$dir/noq.jsonl"
expect_error 1 "costroute eval: $dir/noq.jsonl:1: field \"quality\": no score for l (named by meta.large)" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/noq.jsonl"
# A model name from the data is shown on one short line: 40 bytes, no control characters.
printf '{"query":"x","quality":{"s":1},"meta":{"small":"s","large":"%s\\u001b[31m%s"}}\n' "$(printf 'm%.0s' $(seq 30))" \
  "$(printf 'n%.0s' $(seq 30))" >"$dir/longname.jsonl"
expect_error 1 "costroute train: $dir/longname.jsonl:1: field \"quality\": no score for $(printf 'm%.0s' $(seq 30)) [31mnnnnn... (named by meta.large)" \
  "$costroute" train --data "$dir/longname.jsonl" --out "$dir/x.json"
printf '%s\n' '{"query":"x","quality":{"s":1,"l":1},"meta":{"small":"s","large":"l"}}' >"$dir/nocost.jsonl"
expect_error 1 "costroute eval: $dir/nocost.jsonl:1: missing field \"cost_small\" (or pass --cost-small)" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/nocost.jsonl"

# a model with context features: learned from signals and a record field, read back by score and eval
sed 's/"meta":{/"meta":{"subset":"geo",/' "$dir/routing.jsonl" >"$dir/routing_ctx.jsonl"
"$costroute" train --data "$dir/routing_ctx.jsonl" --out "$dir/ctx.json" --context-fields meta.subset,signal.task_type \
  >/dev/null 2>"$dir/err" || fail "train --context-fields exited $?: $(cat "$dir/err")"
grep -q '"field":"signal.task_type"' "$dir/ctx.json" || fail "the model lacks its context features"
"$costroute" eval --model "$dir/ctx.json" --data "$dir/routing_ctx.jsonl" --json >"$dir/eval_ctx" 2>"$dir/err" ||
  fail "eval of a context model exited $?: $(cat "$dir/err")"
"$costroute" score --model "$dir/ctx.json" --data "$dir/routing_ctx.jsonl" | grep -c p_small_ok | grep -q '^40$' ||
  fail "score of a context model"

# eval --config: a router config over data that scores each of its models
printf '%s\n' '{"query":"hi there","quality":{"small":1,"large":1}}' \
  '{"query":"prove that the sum of two odd numbers is even and explain why","quality":{"small":0,"large":1}}' \
  >"$dir/tiers.jsonl"
cat >"$dir/tiers.config.json" <<'JSON'
{"format": "costroute.config/1",
 "models": [{"name": "small", "tier": 0, "usd_per_mtok_in": 0.1, "usd_per_mtok_out": 0.1},
            {"name": "large", "tier": 1, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}],
 "policies": [{"type": "rule", "when": {"min_reasoning_hits": 1}, "route_to": "strongest"},
              {"type": "fixed", "route_to": "cheapest"}]}
JSON
"$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs small=1,large=10 --json \
  >"$dir/tiers.out" 2>"$dir/err" || fail "eval --config exited $?: $(cat "$dir/err")"
# A --model that no policy of the config asks is said to be unused.
"$costroute" route --config "$dir/tiers.config.json" --model "$dir/m.json" --data "$dir/tiers.jsonl" >/dev/null \
  2>"$dir/err" || fail "route --model with a config without a classifier exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute route: warning: --model was not used: no policy of the config asked for the classifier's score on these 2 requests" ] ||
  fail "route --model unused: $(cat "$dir/err")"
"$costroute" eval --config "$dir/tiers.config.json" --model "$dir/m.json" --data "$dir/tiers.jsonl" \
  --costs small=1,large=10 >/dev/null 2>"$dir/err" || fail "eval --config --model exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute eval: warning: --model was not used: no policy of the config asked for the classifier's score on these 2 requests" ] ||
  fail "eval --config --model unused: $(cat "$dir/err")"
"$costroute" bench --config "$dir/tiers.config.json" --model "$dir/m.json" --data "$dir/tiers.jsonl" --min-seconds 0.05 \
  >/dev/null 2>"$dir/err" || fail "bench --config --model exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute bench: warning: --model was not used: no policy of the config asked for the classifier's score on these 2 requests" ] ||
  fail "bench --config --model unused: $(cat "$dir/err")"
# bench --config: the classifier runs only for the request no rule decides
cat >"$dir/scored.config.json" <<'JSON'
{"format": "costroute.config/1",
 "models": [{"name": "small", "tier": 0, "usd_per_mtok_in": 0.1, "usd_per_mtok_out": 0.1},
            {"name": "large", "tier": 1, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}],
 "classifier": {"model": "m.json"},
 "policies": [{"type": "rule", "when": {"min_reasoning_hits": 1}, "route_to": "strongest"},
              {"type": "classifier", "threshold": 0.5, "cheap": "cheapest", "strong": "strongest"}]}
JSON
"$costroute" bench --config "$dir/scored.config.json" --data "$dir/tiers.jsonl" --min-seconds 0.2 \
  >"$dir/bench" 2>"$dir/err" || fail "bench --config exited $?: $(cat "$dir/err")"
"$costroute" route --config "$dir/scored.config.json" --model "$dir/m.json" --data "$dir/tiers.jsonl" >/dev/null \
  2>"$dir/err" || fail "route --model exited $?: $(cat "$dir/err")"
[ -s "$dir/err" ] && fail "route --model, used by the classifier policy: $(cat "$dir/err")"
grep -q '"timed":"route"' "$dir/bench" && grep -q '"scored_share":0.5,' "$dir/bench" ||
  fail "bench --config: $(cat "$dir/bench")"
grep -q '"router":{"name":"router","quality":1,"cost":11,' "$dir/tiers.out" || fail "eval --config: $(cat "$dir/tiers.out")"
expect_error 1 "costroute eval: always large costs nothing on this data: savings against it are undefined (check its price, or --costs)" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs small=0,large=0
printf '%s\n' '{"query":"hi","quality":{"small":1}}' >"$dir/partial.jsonl"
expect_error 1 "costroute eval: $dir/partial.jsonl:1: field \"quality\": no score for large (a model of the config; --skip-incomplete skips such prompts)" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/partial.jsonl"
expect_error 1 'costroute eval: --costs: expected NAME=COST for models of the config, got "tiny=1"' \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs tiny=1

# calibrate: a threshold with confidence intervals, written into a config
cp "$dir/m.json" "$dir/model.json"
cat >"$dir/config.json" <<'JSON'
{"format": "costroute.config/1",
 "models": [{"name": "small", "tier": 0, "usd_per_mtok_in": 0.1, "usd_per_mtok_out": 0.1},
            {"name": "large", "tier": 1, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}],
 "classifier": {"model": "model.json"},
 "policies": [{"type": "classifier", "threshold": 0.5, "cheap": "cheapest"}, {"type": "fixed", "route_to": "strongest"}]}
JSON
mkdir -p "$dir/written"
"$costroute" calibrate --data "$dir/routing.jsonl" --cv 4 --max-features 50 --bootstrap 200 \
  --config "$dir/config.json" --out "$dir/written/calibrated.json" --json >"$dir/cal" 2>"$dir/err" ||
  fail "calibrate exited $?: $(cat "$dir/err")"
grep -q '"reliable":true' "$dir/cal" || fail "calibrate on separable data: $(cat "$dir/cal")"
# The config's model was trained with 100 features, cross validation with 50.
grep -q 'warning: the threshold was chosen on models trained as "C=1 analyzer=word ngram=1,2 max_features=50 .*", but the config.s classifier was trained as "C=1 analyzer=word ngram=1,2 max_features=100 ' "$dir/err" ||
  fail "calibrate did not warn that the config's model was trained otherwise: $(cat "$dir/err")"
"$costroute" calibrate --data "$dir/routing.jsonl" --cv 4 --max-features 100 --bootstrap 50 --force \
  --config "$dir/config.json" --out "$dir/written/same_flags.json" >/dev/null 2>"$dir/err"
grep -q "trained as" "$dir/err" && fail "calibrate warned although the flags match: $(cat "$dir/err")"
# Settings --tune never changes still count: a model trained with binary tf and min_df 2.
"$costroute" calibrate --data "$dir/routing.jsonl" --cv 4 --max-features 100 --binary --min-df 2 --bootstrap 50 --force \
  --config "$dir/config.json" --out "$dir/written/binary.json" >/dev/null 2>"$dir/err"
grep -q 'trained as "C=1 analyzer=word ngram=1,2 max_features=100 sublinear_tf=0 class_weight=none context=none binary=1 min_df=2", but the config.s classifier was trained as "C=1 analyzer=word ngram=1,2 max_features=100 sublinear_tf=0 class_weight=none context=none"' "$dir/err" ||
  fail "calibrate did not tell binary tf and min_df apart: $(cat "$dir/err")"
# So does the target: cross validation learning the quality gap, the config's model the label.
"$costroute" calibrate --data "$dir/routing.jsonl" --cv 4 --max-features 100 --learn quality-gap --bootstrap 50 --force \
  --config "$dir/config.json" --out "$dir/written/gap.json" >/dev/null 2>"$dir/err"
grep -q 'trained as "C=1 analyzer=word ngram=1,2 max_features=100 sublinear_tf=0 class_weight=none context=none target=quality-gap", but the config.s classifier was trained as "C=1 analyzer=word ngram=1,2 max_features=100 sublinear_tf=0 class_weight=none context=none"' "$dir/err" ||
  fail "calibrate did not tell the targets apart: $(cat "$dir/err")"
grep -q '"model": "../model.json"' "$dir/written/calibrated.json" || fail "calibrate did not rebase the classifier path"
# calibrate compares its training flags with the config's model as its
# file records them, the win head's C included, and warns where they differ.
mkdir -p "$dir/win_cal"
cp "$dir/win3.json" "$dir/win_cal/model.json"
cp "$dir/config.json" "$dir/win_cal/config.json"
"$costroute" calibrate --data "$dir/three.jsonl" --cost-small 0.1 --cost-large 1 --cv 3 --bootstrap 50 --force \
  --learn label-and-win --config "$dir/win_cal/config.json" --out "$dir/win_cal/out.json" >/dev/null 2>"$dir/err" ||
  fail "calibrate of a win head at 3 times C exited $?: $(cat "$dir/err")"
grep -q 'trained as "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none target=label-and-win", but the config.s classifier was trained as "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none target=label-and-win win_C_factor=3"' "$dir/err" ||
  fail "calibrate did not tell the win head's C apart: $(cat "$dir/err")"
"$costroute" calibrate --data "$dir/three.jsonl" --cost-small 0.1 --cost-large 1 --cv 3 --bootstrap 50 --force \
  --learn label-and-win --win-c-factor 3 --config "$dir/win_cal/config.json" --out "$dir/win_cal/out.json" >/dev/null 2>"$dir/err" ||
  fail "calibrate --win-c-factor 3 exited $?: $(cat "$dir/err")"
grep -q "trained as" "$dir/err" && fail "calibrate warned although the win head's C matches: $(cat "$dir/err")"
# A model written before the factor was recorded fitted its win head with C.
sed -e 's/"win_C_factor": *"[^"]*", *//' -e 's/, *"win_C_factor": *"[^"]*"//' "$dir/win.json" >"$dir/win_cal/model.json"
grep -q win_C_factor "$dir/win_cal/model.json" && fail "the provenance edit left win_C_factor in: $(cat "$dir/win_cal/model.json")"
"$costroute" calibrate --data "$dir/three.jsonl" --cost-small 0.1 --cost-large 1 --cv 3 --bootstrap 50 --force \
  --learn label-and-win --win-c-factor 3 --config "$dir/win_cal/config.json" --out "$dir/win_cal/out.json" >/dev/null 2>"$dir/err" ||
  fail "calibrate of an older win head exited $?: $(cat "$dir/err")"
grep -q 'was trained as "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none target=label-and-win"' "$dir/err" ||
  fail "calibrate took an older win head for one at 3 times C: $(cat "$dir/err")"
echo '{"query":"what is the capital of country 3"}' | "$costroute" route --config "$dir/written/calibrated.json" >/dev/null ||
  fail "the calibrated config does not load"
"$costroute" calibrate --data "$dir/routing.jsonl" --cv 4 --max-features 50 --bootstrap 50 --strong-share 0.5 \
  --json >"$dir/cal_share" || fail "calibrate --strong-share failed"
grep -q '"strong_share":0.5,' "$dir/cal_share" || fail "calibrate --strong-share: $(cat "$dir/cal_share")"
# No signal: the labels have nothing to do with the queries.
python3 -c '
import json, random
random.seed(7)
for i in range(60):
    ok = random.random() < 0.5
    print(json.dumps({"query": "note %d %s" % (i, random.choice(["alpha", "beta", "gamma"])),
                      "quality": {"s": 1 if ok else 0, "l": 1}, "meta": {"small": "s", "large": "l"},
                      "cost_small": 0.1, "cost_large": 1}))' >"$dir/noise.jsonl"
"$costroute" calibrate --data "$dir/noise.jsonl" --cv 3 --bootstrap 200 --config "$dir/config.json" \
  --out "$dir/written/noise.json" >"$dir/cal_noise" 2>"$dir/err"
[ $? = 1 ] || fail "calibrate on noise should refuse to write the config"
grep -q "NOT reliably better than a random share" "$dir/err" || fail "calibrate on noise: $(cat "$dir/err")"
grep -q "NO SAVINGS ATTRIBUTABLE TO THE ROUTER" "$dir/cal_noise" || fail "calibrate on noise claims savings: $(cat "$dir/cal_noise")"
# A handful of prompts: the numbers are printed, with a warning that they mean little.
head -n 5 "$dir/noise.jsonl" >"$dir/five.jsonl"
"$costroute" calibrate --model "$dir/m.json" --data "$dir/five.jsonl" --bootstrap 100 >"$dir/cal_five" 2>"$dir/err" ||
  fail "calibrate on five prompts failed: $(cat "$dir/err")"
grep -qx "costroute calibrate: warning: only 5 distinct prompts: the intervals and the verdict rest on too few to mean much (a threshold worth deploying needs hundreds)" "$dir/err" ||
  fail "calibrate on five prompts: stderr [$(cat "$dir/err")]"
grep -q "NO SAVINGS ATTRIBUTABLE TO THE ROUTER" "$dir/cal_five" || fail "calibrate on five prompts claims savings: $(cat "$dir/cal_five")"
# A config the copy could not be is reported first, naming it, whatever the data says.
sed 's/"format"/"colour": 1, "format"/' "$dir/config.json" >"$dir/unknown_field.json"
expect_error 1 "costroute calibrate: $dir/unknown_field.json: colour: unknown field (expected one of: format, models, classifier, options, policies)" \
  "$costroute" calibrate --data "$dir/noise.jsonl" --cv 3 --bootstrap 200 --config "$dir/unknown_field.json" \
  --out "$dir/written/noise.json"
sed 's/"format"/"format": "costroute.config\/1", "format"/' "$dir/config.json" >"$dir/twice.json"
expect_error 1 "costroute calibrate: $dir/twice.json: duplicate field \"format\"" \
  "$costroute" calibrate --data "$dir/noise.jsonl" --cv 3 --bootstrap 200 --config "$dir/twice.json" \
  --out "$dir/written/noise.json"
"$costroute" eval --data "$dir/noise.jsonl" --cv 3 >"$dir/eval_noise" || fail "eval --cv on noise failed"
grep -q "^against random, over the whole curve: .*: NOT reliably better than random on this data$" "$dir/eval_noise" ||
  fail "eval on noise does not say the router is not reliably better than random: $(cat "$dir/eval_noise")"
[ ! -e "$dir/written/noise.json" ] || fail "calibrate on noise wrote the config"
# The small model better on average: nothing for a router to recover, and the commands say so.
python3 -c '
import json, random
random.seed(8)
for i in range(60):
    s, l = (1, 0) if i % 3 == 0 else (1, 1) if i % 3 == 1 else (0, 1) if i % 2 else (1, 1)
    print(json.dumps({"query": "item %d %s" % (i, random.choice(["alpha", "beta"])),
                      "quality": {"s": s, "l": l}, "meta": {"small": "s", "large": "l"},
                      "cost_small": 0.1, "cost_large": 1}))' >"$dir/small_better.jsonl"
"$costroute" eval --data "$dir/small_better.jsonl" --cv 3 >"$dir/eval_sb" || fail "eval on small_better failed"
grep -q "^against random: not judged: the small model is at least as good as the strong one on average .* saves 90.0% of always-strong's cost;" \
  "$dir/eval_sb" || fail "eval with the small model better: $(cat "$dir/eval_sb")"
"$costroute" eval --data "$dir/small_better.jsonl" --cv 3 --json >"$dir/eval_sb_json" || fail "eval --json on small_better failed"
for field in '"apgr":null,' '"cpt50":null,' '"apgr_ci":\[null,null\]' '"bootstrap":0,'; do
  grep -q "$field" "$dir/eval_sb_json" || fail "eval --json with the small model better lacks $field: $(cat "$dir/eval_sb_json")"
done
"$costroute" calibrate --data "$dir/small_better.jsonl" --cv 3 --bootstrap 50 >"$dir/cal_sb" 2>"$dir/err"
grep -q "^note: the small model is at least as good as the strong one on average .*; no router is needed$" "$dir/cal_sb" ||
  fail "calibrate with the small model better: $(cat "$dir/cal_sb")"
grep -q "Do not deploy this threshold: send every prompt to the small model." "$dir/err" ||
  fail "calibrate's advice with the small model better: $(cat "$dir/err")"
"$costroute" calibrate --data "$dir/small_better.jsonl" --cv 3 --bootstrap 50 --json 2>/dev/null | grep -q '"small_model_suffices":true' ||
  fail "calibrate --json does not say the small model suffices"
grep -q '"small_model_suffices":false' "$dir/cal_share" || fail "calibrate --json: small_model_suffices: $(cat "$dir/cal_share")"
"$costroute" train --tune --cv 3 --data "$dir/small_better.jsonl" --out "$dir/sb.model.json" >/dev/null 2>"$dir/err" ||
  fail "train --tune on small_better failed: $(cat "$dir/err")"
[ "$(grep -c "^costroute train --tune: C=" "$dir/err")" = 1 ] || fail "train --tune searched without a quality gap: $(cat "$dir/err")"
grep -q "the strong model is not better on average than the small one, so no setting can beat another" "$dir/err" ||
  fail "train --tune does not say why it kept its settings: $(cat "$dir/err")"
# On 4 records some resamples draw every record and leave none out to measure
# on: they are skipped, and the count printed is of those used.
printf '%s\n' '{"query":"alpha beta","quality":{"s":1,"l":1},"meta":{"small":"s","large":"l"},"cost_small":0.1,"cost_large":1}' \
  '{"query":"alpha gamma","quality":{"s":0,"l":1},"meta":{"small":"s","large":"l"},"cost_small":0.1,"cost_large":1}' \
  '{"query":"beta gamma","quality":{"s":1,"l":1},"meta":{"small":"s","large":"l"},"cost_small":0.1,"cost_large":1}' \
  '{"query":"gamma delta","quality":{"s":0,"l":1},"meta":{"small":"s","large":"l"},"cost_small":0.1,"cost_large":1}' >"$dir/four.jsonl"
"$costroute" calibrate --data "$dir/four.jsonl" --cv 2 --bootstrap 50 >"$dir/cal_four" 2>/dev/null
grep -Eq "in [0-9.]+% of (4[0-9]) bootstrap resamples" "$dir/cal_four" ||
  fail "calibrate on 4 records should count only the resamples it used: $(cat "$dir/cal_four")"
expect_error 1 "costroute calibrate: give one target: --max-quality-drop, --strong-share or --max-cost" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --strong-share 0.5 --max-cost 0.5
expect_error 1 "costroute calibrate: --config and --out go together: the threshold is written into a copy" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --config "$dir/config.json"

# The random mixture's savings in calibrate's verdict: share s of strong calls costs 0.1 + 0.9 s here.
line=$(grep -o "a random [0-9.]*% of prompts sent to the strong model reaches the same quality for [-0-9.]*% less" "$dir/cal_noise")
python3 -c '
import re, sys
share, less = map(float, re.findall(r"[-0-9.]+(?=%)", sys.argv[1]))
sys.exit(0 if abs(less - (100 - share) * 0.9) < 0.2 else 1)' "$line" || fail "calibrate: random savings wrong in [$line]"
# With --model, the written config uses that model.
"$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --bootstrap 50 --force \
  --config "$dir/config.json" --out "$dir/written/with_model.json" >/dev/null 2>&1 || fail "calibrate --model --config"
grep -q '"model": "../m.json"' "$dir/written/with_model.json" || fail "calibrate --model: $(cat "$dir/written/with_model.json")"
# A config the router would refuse is not written.
sed 's/"tier": 1/"tier": -1/' "$dir/config.json" >"$dir/badtier.json"
"$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --bootstrap 50 --force \
  --config "$dir/badtier.json" --out "$dir/written/bad.json" >/dev/null 2>"$dir/err"
grep -q "^costroute calibrate: $dir/badtier.json: models\[1\].tier" "$dir/err" ||
  fail "calibrate wrote or misreported a bad config: $(cat "$dir/err")"
[ ! -e "$dir/written/bad.json" ] || fail "calibrate wrote a config that does not load"

# Outputs never destroy inputs or special files.
cp "$dir/train.jsonl" "$dir/keep.jsonl"
expect_error 1 "costroute train: --out $dir/keep.jsonl is also the --data file; not overwriting it" \
  "$costroute" train --data "$dir/keep.jsonl" --out "$dir/keep.jsonl"
ln -s keep.jsonl "$dir/link.jsonl"
expect_error 1 "costroute eval: --plot $dir/link.jsonl is also the --data file; not overwriting it" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/keep.jsonl" --plot "$dir/link.jsonl"
expect_error 1 "costroute calibrate: --out $dir/m.json is also the --model file; not overwriting it" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --config "$dir/config.json" --out "$dir/m.json"
# Standard input redirected from a file is that file.
expect_error 1 "costroute train: --out $dir/keep.jsonl is also the --data file; not overwriting it" \
  "$costroute" train --data - --out "$dir/keep.jsonl" <"$dir/keep.jsonl"
cmp -s "$dir/train.jsonl" "$dir/keep.jsonl" || fail "an input was overwritten"
# One file under two names would be read twice: in cross validation, every
# record would have its copy in another fold.
expect_error 1 "costroute eval: --data: $dir/keep.jsonl and $dir/./keep.jsonl are the same file" \
  "$costroute" eval --cv 3 --data "$dir/keep.jsonl,$dir/./keep.jsonl"
expect_error 1 "costroute train: --data: $dir/keep.jsonl and $dir/link.jsonl are the same file" \
  "$costroute" train --data "$dir/keep.jsonl,$dir/link.jsonl" --out "$dir/x.json"
expect_error 1 "costroute train: --data: $dir/keep.jsonl and - are the same file" \
  "$costroute" train --data "$dir/keep.jsonl,-" --out "$dir/x.json" <"$dir/keep.jsonl"
# A forgotten value is not taken from the next flag.
expect_error 1 "costroute train: --out needs a value, got the flag --binary (write --out=--binary if that is the value)" \
  "$costroute" train --data "$dir/train.jsonl" --out --binary
[ ! -e ./--binary ] || fail "train wrote a file named --binary"
# A context field no record has is a typo, not a feature that is silently off.
expect_error 1 'costroute train: --context-fields: no record of the --data has the field "meta.subsett"' \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --context-fields meta.subsett
# A config calibrate cannot edit is reported before any work, reliable or not.
expect_error 1 "costroute calibrate: $dir/tiers.config.json: no classifier policy with a threshold in the config" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --config "$dir/tiers.config.json" --out "$dir/x.json"
# Only data is read from standard input.
expect_error 1 'costroute score: -: give a file name to read ("-", standard input, is for data)' \
  "$costroute" score --model - --data "$dir/in.jsonl"
echo old >"$dir/target.json"
chmod 640 "$dir/target.json"
ln -s target.json "$dir/out_link.json"
"$costroute" train --data "$dir/train.jsonl" --out "$dir/out_link.json" --max-features 100 >/dev/null ||
  fail "train --out through a link"
[ -L "$dir/out_link.json" ] || fail "train --out replaced the link"
grep -q costroute.model "$dir/target.json" || fail "train --out did not write through the link"
[ "$(stat -c %a "$dir/target.json")" = 640 ] || fail "train --out changed the permissions"
# A pipe (as /dev/stdout may be) is written to, not replaced; a pipe in $dir, so
# that a regression could never replace a device of the machine.
mkfifo "$dir/pipe"
timeout 30 cat "$dir/pipe" >"$dir/from_pipe" &
"$costroute" train --data "$dir/train.jsonl" --out "$dir/pipe" --max-features 100 >/dev/null || fail "train --out a pipe"
wait
[ -p "$dir/pipe" ] || fail "train --out replaced a pipe with a file"
grep -q costroute.model "$dir/from_pipe" || fail "train --out wrote nothing into the pipe"
expect_error 1 'costroute train: -: give a file name to write ("-" reads standard input elsewhere)' \
  "$costroute" train --data "$dir/train.jsonl" --out - --max-features 100

# Directories, duplicate fields, a byte order mark, bad escapes.
expect_error 1 "costroute score: $dir: cannot open: Is a directory" "$costroute" score --model "$dir" --data "$dir/in.jsonl"
expect_error 1 "costroute score: $dir: cannot open: Is a directory" "$costroute" score --model "$dir/m.json" --data "$dir"
expect_error 1 "costroute route: $dir: cannot open: Is a directory" "$costroute" route --config "$dir" --data "$dir/in.jsonl"
printf '%s\n' '{"query":"a","label_small_ok":1,"label_small_ok":0}' >"$dir/dup.jsonl"
expect_error 1 "costroute train: $dir/dup.jsonl:1: duplicate field \"label_small_ok\"" \
  "$costroute" train --data "$dir/dup.jsonl" --out "$dir/x.json"
printf '%s\n' '{"query":"a","meta":{"subset":"x","subset":"y"}}' >"$dir/dup2.jsonl"
expect_error 1 "costroute score: $dir/dup2.jsonl:1: duplicate field \"meta.subset\"" \
  "$costroute" score --model "$dir/m.json" --data "$dir/dup2.jsonl"
sed 's/"intercept":/"intercept":0,"intercept":/' "$dir/m.json" >"$dir/dupmodel.json"
expect_error 1 "costroute score: $dir/dupmodel.json: duplicate field \"intercept\"" \
  "$costroute" score --model "$dir/dupmodel.json" --data "$dir/in.jsonl"
printf '%s\n' '{"query":"a"} {"query":"b"}' >"$dir/two.jsonl"
expect_error 1 "costroute score: $dir/two.jsonl:1: column 15: not valid JSON: more text after the end of the JSON value" \
  "$costroute" score --model "$dir/m.json" --data "$dir/two.jsonl"
printf '\xef\xbb\xbf{"query":"with a byte order mark"}\n' >"$dir/bom.jsonl"
"$costroute" score --model "$dir/m.json" --data "$dir/bom.jsonl" | grep -q p_small_ok || fail "a byte order mark is refused"
printf '{ \n  "query": "spread over lines"\n}\n' >"$dir/pretty.jsonl"
expect_error 1 "costroute score: $dir/pretty.jsonl:1: column 1: a JSON document spread over lines (a model or config file?); JSON Lines needs one record per line" \
  "$costroute" score --model "$dir/m.json" --data "$dir/pretty.jsonl"
cat "$dir/bom.jsonl" "$dir/bom.jsonl" >"$dir/bom2.jsonl"
expect_error 1 "costroute score: $dir/bom2.jsonl:2: column 1: a byte order mark (U+FEFF) where a record should start; only the file's first bytes may be one (were two files joined?)" \
  "$costroute" score --model "$dir/m.json" --data "$dir/bom2.jsonl"
printf '%s\n' '{"query":"lone \x surrogate"}' >"$dir/bad_escape.jsonl"
expect_error 1 "costroute score: $dir/bad_escape.jsonl:1: column 17: not valid JSON: a string with a bad escape (such as \\x, or a lone surrogate \\ud800 outside JSONL data) or an unescaped control character" \
  "$costroute" score --model "$dir/m.json" --data "$dir/bad_escape.jsonl"
# A lone surrogate reads as U+FFFD: scored as the same text with U+FFFD written out.
printf '%s\n' '{"query":"lone \ud800 surrogate"}' '{"query":"lone \ufffd surrogate"}' >"$dir/surrogate.jsonl"
"$costroute" score --model "$dir/m.json" --data "$dir/surrogate.jsonl" >"$dir/out" 2>"$dir/err" ||
  fail "score refused a lone surrogate: $(cat "$dir/err")"
[ "$(cut -d, -f2 "$dir/out" | sort -u | wc -l)" = 1 ] || fail "a lone surrogate scored unlike U+FFFD: $(cat "$dir/out")"

# Costs, weights and numbers out of range.
sed 's/"cost_small":0.1/"cost_small":-0.5/' "$dir/routing.jsonl" >"$dir/negcost.jsonl"
expect_error 1 "costroute eval: $dir/negcost.jsonl:1: field \"cost_small\": expected a cost in [0, 1e12]" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/negcost.jsonl"
expect_error 1 "costroute eval: --cost-small: expected a cost in [0, 1e12], got -0.5" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/nocost.jsonl" --cost-small -0.5 --cost-large 1
sed 's/"label_small_ok":1}/"label_small_ok":1,"w":0}/; s/"label_small_ok":0}/"label_small_ok":0,"w":1}/' "$dir/train.jsonl" >"$dir/zero_w.jsonl"
expect_error 1 "costroute train: $dir/zero_w.jsonl: weights: the examples of label 1 all have weight 0; training needs weight on both labels" \
  "$costroute" train --data "$dir/zero_w.jsonl" --out "$dir/x.json" --weight-field w
expect_error 1 'costroute train: --C: expected a number, got "0x10"' \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --C 0x10
expect_error 1 "costroute train: --tol: expected a number in [0, 1), got -1" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --tol -1
expect_error 1 "costroute bench: --min-seconds: expected a number of seconds in (0, 3600]" \
  "$costroute" bench --model "$dir/m.json" --data "$dir/train.jsonl" --min-seconds 1e308
expect_error 1 "costroute eval: --costs: give every model of the config a cost (missing: large)" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs small=1
expect_error 1 "costroute eval: --costs: small given twice" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs small=1,small=2,large=3
expect_error 1 "costroute eval: $dir/empty.jsonl: no records" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/empty.jsonl"
expect_error 1 "costroute eval: $dir/partial.jsonl: all 1 records skipped: none scores every model of the config in \"quality\"" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/partial.jsonl" --skip-incomplete
sed 's/"min_reasoning_hits": 1/"min_tokens": 9, "max_tokens": 3/' "$dir/tiers.config.json" >"$dir/never.json"
expect_error 1 "costroute route: $dir/never.json: policies[0].when.min_tokens: greater than max_tokens: the rule could never hold" \
  "$costroute" route --config "$dir/never.json" --data "$dir/in.jsonl"
# The model a config names is not overwritten by the config written for it.
mkdir -p "$dir/inplace"
cp "$dir/config.json" "$dir/inplace/config.json"
cp "$dir/m.json" "$dir/inplace/model.json"
expect_error 1 "costroute calibrate: --out $dir/inplace/model.json is the classifier model the config names; not overwriting it" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --bootstrap 50 --force --cv 4 --max-features 50 \
  --config "$dir/inplace/config.json" --out "$dir/inplace/model.json"
cmp -s "$dir/m.json" "$dir/inplace/model.json" || fail "calibrate overwrote the config's model"
# Nor, with --model, the model the input config named, which the written config no longer names.
cp "$dir/m.json" "$dir/inplace/other.json"
expect_error 1 "costroute calibrate: --out $dir/inplace/model.json is the classifier model the config names; not overwriting it" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --bootstrap 50 --force --model "$dir/inplace/other.json" \
  --config "$dir/inplace/config.json" --out "$dir/inplace/model.json"
cmp -s "$dir/m.json" "$dir/inplace/model.json" || fail "calibrate --model overwrote the input config's model"
expect_error 1 "costroute calibrate: --out $dir/inplace/other.json is also the --model file; not overwriting it" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --bootstrap 50 --force --model "$dir/inplace/other.json" \
  --config "$dir/inplace/config.json" --out "$dir/inplace/other.json"
expect_error 1 "costroute calibrate: $dir/routing.jsonl: a maximum cost of 0 of always-strong's is less than any threshold costs: sending everything to the small model costs 0.1 of always-strong's" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --max-cost 0
# Flags that would do nothing in the mode chosen are refused, not ignored.
expect_error 1 "costroute eval: --plot does not apply with --config, which evaluates a whole router over the data's quality maps" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --plot "$dir/x.svg"
expect_error 1 "costroute eval: --bootstrap does not apply with --config, which evaluates a whole router over the data's quality maps" \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --bootstrap 100
expect_error 1 "costroute train: --cv does not apply without --tune" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --cv 3
expect_error 1 "costroute calibrate: --cv does not apply with --model, whose scores are used as they are" \
  "$costroute" calibrate --data "$dir/routing.jsonl" --model "$dir/m.json" --cv 3
expect_error 1 "costroute route: --explain does not apply with --format table, which has no room for traces" \
  "$costroute" route --config "$dir/tiers.config.json" --data "$dir/in.jsonl" --format table --explain
expect_error 1 'costroute eval: --costs: expected NAME=COST for models of the config, got "small=0x10"' \
  "$costroute" eval --config "$dir/tiers.config.json" --data "$dir/tiers.jsonl" --costs small=0x10,large=1
expect_error 1 "costroute train: --context-fields: meta.subset given twice" \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --context-fields meta.subset,meta.subset
expect_error 1 'costroute train: --context-fields: "meta..subset": a dotted path with an empty part' \
  "$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --context-fields meta..subset
expect_error 1 'costroute eval: --context-fields: unknown signal feature "signal.bogus" (known: signal.task_type, signal.domain, signal.script, signal.length, signal.reasoning, signal.code, signal.question)' \
  "$costroute" eval --cv 4 --data "$dir/routing.jsonl" --context-fields signal.bogus
# A model naming an unknown signal is refused when it loads, naming the model's field.
sed 's/"format":"costroute.model\/1",/&"context_features":[{"field":"signal.bogus","values":["a"],"coef":[0.1]}],/' \
  "$dir/m.json" >"$dir/bogus_signal.json"
expect_error 1 'costroute score: '"$dir"'/bogus_signal.json: context_features[0].field: unknown signal feature "signal.bogus" (known: signal.task_type, signal.domain, signal.script, signal.length, signal.reasoning, signal.code, signal.question)' \
  "$costroute" score --model "$dir/bogus_signal.json" --data "$dir/in.jsonl"
sed 's/"quality":{"s":1,"l":1}/"quality":{"s":1e308,"l":1}/' "$dir/routing.jsonl" >"$dir/hugeq.jsonl"
expect_error 1 "costroute eval: $dir/hugeq.jsonl:1: field \"quality\": the score of s is beyond 1e12 in size" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/hugeq.jsonl"
sed 's/"quality":{"s":1,"l":1}/"quality":{"s":1,"l":5e-324}/' "$dir/routing.jsonl" >"$dir/tinyq.jsonl"
expect_error 1 "costroute eval: $dir/tinyq.jsonl:1: field \"quality\": the score of l is below 1e-300 in size but not 0, too small to average: rescale the scores" \
  "$costroute" eval --model "$dir/m.json" --data "$dir/tinyq.jsonl"
printf '%s\n' '{"query":"hi","request_time_ms":1e300}' >"$dir/time.jsonl"
expect_error 1 "costroute route: $dir/time.jsonl:1: field \"request_time_ms\": expected whole milliseconds since 1970 within +-1e15" \
  "$costroute" route --config "$dir/tiers.config.json" --data "$dir/time.jsonl"
printf '%s\n' '{"query":"hi","task_type":"CODE"}' >"$dir/hint.jsonl"
expect_error 1 "costroute route: $dir/hint.jsonl:1: field \"task_type\": expected one of chat, question, classification, sentiment, extraction, translation, summarization, code, math, reasoning, writing" \
  "$costroute" route --config "$dir/tiers.config.json" --data "$dir/hint.jsonl"
printf '%s\n' '{"query":"hi","images":1e9}' >"$dir/images.jsonl"
expect_error 1 "costroute route: $dir/images.jsonl:1: field \"images\": expected a whole number in [0, 1000000]" \
  "$costroute" route --config "$dir/tiers.config.json" --data "$dir/images.jsonl"
# Whatever the input puts into a message (a key with a line break and a
# terminal escape), it is one line on stderr.
printf '%s\n' '{"query":"hi","tags":{"a\nb\u001b[31m":1}}' >"$dir/tagkey.jsonl"
expect_error 1 "costroute route: $dir/tagkey.jsonl:1: field \"tags.a b [31m\": expected a string, got number" \
  "$costroute" route --config "$dir/tiers.config.json" --data "$dir/tagkey.jsonl"
python3 -c 'import json; print(json.dumps({"query": "x", "label_small_ok": "y" * 100000}))' >"$dir/longlabel.jsonl"
"$costroute" train --data "$dir/longlabel.jsonl" --out "$dir/x.json" 2>"$dir/err"
[ "$(wc -c <"$dir/err")" -lt 300 ] || fail "an error message echoed a 100 kB value"
# A link to a file that does not exist yet is written through, not replaced.
mkdir -p "$dir/later"
ln -s later/made.json "$dir/dangling.json"
"$costroute" train --data "$dir/train.jsonl" --out "$dir/dangling.json" --max-features 100 >/dev/null ||
  fail "train --out through a dangling link"
[ -L "$dir/dangling.json" ] && [ -s "$dir/later/made.json" ] || fail "train --out replaced a dangling link"
# Control characters in a picture's title would make the SVG unreadable XML.
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot "$dir/ctrl.svg" --title "$(printf 'a\001b\377c')" >/dev/null
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$dir/ctrl.svg" 2>/dev/null ||
  fail "--plot wrote an SVG that is not well-formed XML"
# The table shows no control characters of a query (a terminal would run them).
printf '{"query":"red \\u001b[31m text"}\n' | "$costroute" route --config "$dir/tiers.config.json" --format table |
  grep -q $'\x1b' && fail "route --format table printed an escape character"
# The summary counts the catalog's tiers, not every number up to the highest.
sed 's/"tier": 1,/"tier": 7,/' "$dir/tiers.config.json" >"$dir/gapped.config.json"
echo '{"query":"hi"}' | "$costroute" route --config "$dir/gapped.config.json" --format table | grep -qx '1 request (tier 0: 1, tier 7: 0)' ||
  fail "route --format table summary with tiers 0 and 7: $(echo '{"query":"hi"}' | "$costroute" route --config "$dir/gapped.config.json" --format table | tail -n 3)"
# Always-strongest is priced as it would be served: an image goes to the
# vision model there too, so sending it there saves nothing, and loses nothing.
cat >"$dir/vision.config.json" <<'EOF'
{"format": "costroute.config/1",
 "models": [{"name": "small", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1},
            {"name": "big", "tier": 1, "usd_per_mtok_in": 10, "usd_per_mtok_out": 10},
            {"name": "eyes", "tier": 1, "usd_per_mtok_in": 100, "usd_per_mtok_out": 100, "capabilities": ["text", "vision"]}],
 "policies": [{"type": "fixed", "route_to": "strongest"}]}
EOF
echo '{"query":"hi","images":1}' | "$costroute" route --config "$dir/vision.config.json" --format table >"$dir/vision_table" 2>"$dir/err" ||
  fail "route --format table with an image failed: $(cat "$dir/err")"
grep -q "always big (or the nearest model that can take the request): 0.0% saved$" "$dir/vision_table" ||
  fail "route --format table priced always-strongest by a model that cannot take an image: $(tail -n 2 "$dir/vision_table")"
"$costroute" route --config "$dir/tiers.config.json" --format table </dev/null | tail -n 1 | grep -qx '0 requests' ||
  fail "route --format table without requests does not say so"

# Hand-made scores: one-word queries aa, bb, cc, dd score 0.881, 0.731,
# 0.269 and 0.119; in top.json, aa scores exactly 1.
for name in four top; do
  coef='[2, 1, -1, -2]'; [ $name = top ] && coef='[50, 1, -1, -2]'
  printf '{"format": "costroute.model/1", "vectorizer": {"ngram_range": [1, 1], "norm": "l2"}, "intercept": 0,
    "vocabulary": ["aa", "bb", "cc", "dd"], "idf": [1, 1, 1, 1], "coef": %s}\n' "$coef" >"$dir/$name.json"
done
outcome() {  # query, small and strong quality, small and strong cost
  echo "{\"query\":\"$1\",\"quality\":{\"s\":$2,\"l\":$3},\"meta\":{\"small\":\"s\",\"large\":\"l\"},\"cost_small\":$4,\"cost_large\":$5}"
}
# A router that saves nothing is not "better than random" by rounding (0.3
# + 1 * (0.9 - 0.3) is above 0.9 in floating point).
for q in aa bb cc dd; do outcome $q 0 1 0.3 0.9; done >"$dir/nothing.jsonl"
"$costroute" calibrate --model "$dir/four.json" --data "$dir/nothing.jsonl" --bootstrap 200 --json >"$dir/out" 2>/dev/null
grep -q '"better_than_random_share":0,"reliable":false' "$dir/out" || fail "calibrate counted rounding as wins: $(cat "$dir/out")"
# When nothing may go to the small model and a prompt scores 1, no threshold
# in [0, 1] says so: calibrate refuses to write one, and says why.
for i in 1 2 3 4 5 6 7 8 9 10; do outcome aa 0 1 0.1 1; outcome dd 0 1 0.1 1; done >"$dir/top.jsonl"
expect_error 1 "costroute calibrate: no threshold to write: the target keeps every prompt on the strong model, but some prompts score p_small_ok = 1, which every threshold in [0, 1] sends to the small model" \
  "$costroute" calibrate --model "$dir/top.json" --data "$dir/top.jsonl" --max-quality-drop 0 --bootstrap 20 --force \
  --config "$dir/config.json" --out "$dir/written/top.json"
[ ! -e "$dir/written/top.json" ] || fail "calibrate wrote a threshold above 1"
# Within a share or a cost budget, the cheapest of equally good points.
for q in aa bb cc dd; do outcome $q 1 1 0.1 1; done >"$dir/same.jsonl"
for target in "--strong-share 0.5" "--max-cost 0.8"; do
  "$costroute" calibrate --model "$dir/four.json" --data "$dir/same.jsonl" $target --bootstrap 20 --json >"$dir/out" 2>/dev/null
  grep -q '"strong_share":0,' "$dir/out" || fail "calibrate $target kept a dearer point of equal quality: $(cat "$dir/out")"
done
# --seed seeds calibrate's bootstrap, also with --model.
"$costroute" calibrate --model "$dir/four.json" --data "$dir/same.jsonl" --seed 2 --bootstrap 20 >/dev/null 2>&1 ||
  fail "calibrate --model --seed was refused"
# --force says that it wrote the config.
"$costroute" calibrate --data "$dir/noise.jsonl" --cv 3 --bootstrap 200 --config "$dir/config.json" --force \
  --out "$dir/written/forced.json" >"$dir/out" 2>/dev/null
grep -q "^config: $dir/written/forced.json (written because of --force" "$dir/out" ||
  fail "calibrate --force did not say it wrote the config: $(cat "$dir/out")"
# The threshold is printed exactly: a rounded one can move a prompt.
for q in aa bb aa bb; do outcome $q 0 1 0.5 1; done >"$dir/exact.jsonl"
printed=$("$costroute" eval --model "$dir/four.json" --data "$dir/exact.jsonl" | sed -n 's/^threshold: p_small_ok >= \([^ ]*\) .*/\1/p')
exact=$("$costroute" eval --model "$dir/four.json" --data "$dir/exact.jsonl" --json | python3 -c 'import json, sys; print(repr(json.load(sys.stdin)["threshold"]))')
[ -n "$printed" ] && [ "$printed" = "$exact" ] || fail "eval printed the threshold as [$printed], it is $exact"
expect_error 1 "costroute calibrate: --cv 5 (the default): more folds than records (4)" \
  "$costroute" calibrate --data "$dir/same.jsonl"
expect_error 1 "costroute eval: --cv 6: more folds than records (4)" \
  "$costroute" eval --cv 6 --data "$dir/same.jsonl"
expect_error 1 "costroute eval: --cv 6: more folds than records (4)" \
  "$costroute" eval --cv 6 --tune --data "$dir/same.jsonl"
expect_error 1 "costroute train: --cv 5 (the default): more folds than records (4)" \
  "$costroute" train --tune --data "$dir/same.jsonl" --out "$dir/x.json"
cat "$dir/same.jsonl" "$dir/same.jsonl" >"$dir/same_twice.jsonl"
expect_error 1 "costroute eval: --cv 5: more folds than distinct prompts (4 among 8 records; a repeated prompt stays in one fold)" \
  "$costroute" eval --cv 5 --data "$dir/same_twice.jsonl"
expect_error 1 "costroute eval: --title names the picture: it goes with --plot FILE.svg" \
  "$costroute" eval --model "$dir/four.json" --data "$dir/same.jsonl" --title x
expect_error 1 "costroute eval: --weight-field does not apply with --model, whose scores are used as they are" \
  "$costroute" eval --model "$dir/four.json" --data "$dir/same.jsonl" --weight-field w
# U+FFFE and U+FFFF are UTF-8 but not XML characters.
"$costroute" eval --model "$dir/m.json" --data "$dir/routing.jsonl" --plot "$dir/nonchar.svg" --title "$(printf 'a\357\277\276b\357\277\277')" >/dev/null
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$dir/nonchar.svg" 2>/dev/null ||
  fail "--plot wrote U+FFFE or U+FFFF into the SVG"

# Records that routing cannot measure are refused, each with its reason.
{ outcome aa 7 9 0.1 1; echo '{"query":"bb","label_small_ok":1,"cost_small":0.1,"cost_large":1}'; } >"$dir/mixed.jsonl"
expect_error 1 "costroute eval: $dir/mixed.jsonl:2: no \"quality\" map, while $dir/mixed.jsonl:1 has one: the label (0 or 1) would be measured beside the scores; give every record a quality map, or none" \
  "$costroute" eval --model "$dir/four.json" --data "$dir/mixed.jsonl"
for q in aa bb cc dd; do outcome $q 0 1 1 1; done >"$dir/samecost.jsonl"
for command in "eval --model $dir/four.json" "calibrate --model $dir/four.json" "eval --cv 2"; do
  expect_error 1 "costroute ${command%% *}: $dir/samecost.jsonl: costs: the small model costs 4 in all, the strong one 4: with the small model no cheaper there is nothing to save (check cost_small and cost_large)" \
    "$costroute" $command --data "$dir/samecost.jsonl"
done
for q in aa bb cc dd; do outcome $q -1 0 0.1 1; done >"$dir/negative.jsonl"
expect_error 1 "costroute eval: $dir/negative.jsonl: quality: the strong model's mean quality is 0: the allowed drop is a share of it, which needs a mean above 0 (shift the scores so that they are positive)" \
  "$costroute" eval --model "$dir/four.json" --data "$dir/negative.jsonl"
expect_error 1 "costroute eval: --cost-large: every record has its cost_large, so the flag would change nothing (it fills in missing costs)" \
  "$costroute" eval --model "$dir/four.json" --data "$dir/exact.jsonl" --cost-large 2
expect_error 1 "costroute eval: --plot: empty value (leave the flag out for its default)" "$costroute" eval --model "$dir/four.json" --data "$dir/exact.jsonl" --plot=
# A label that contradicts the quality map is measured by the qualities, and said so.
for q in aa bb; do outcome $q 0 1 0.1 1 | sed 's/^{/{"label_small_ok":1,/'; done >"$dir/contradicts.jsonl"
"$costroute" eval --model "$dir/four.json" --data "$dir/contradicts.jsonl" >/dev/null 2>"$dir/err" ||
  fail "eval with contradicting labels exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute eval: warning: in 2 of 2 records (the first at $dir/contradicts.jsonl:1) the label disagrees with the quality map (quality[meta.small] >= quality[meta.large]): training learns the label, evaluation measures the qualities" ] ||
  fail "eval with contradicting labels: stderr [$(cat "$dir/err")]"
# Models that stop at --max-iter in a cross validation are said to.
"$costroute" eval --cv 3 --data "$dir/routing.jsonl" --max-iter 1 >/dev/null 2>"$dir/err" ||
  fail "eval --cv --max-iter 1 exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute eval: warning: 3 of the 3 models trained stopped before converging: their scores are not the optimum's; raise --max-iter" ] ||
  fail "eval --cv --max-iter 1: stderr [$(cat "$dir/err")]"
"$costroute" eval --cv 3 --data "$dir/routing.jsonl" >/dev/null 2>"$dir/err"
[ -s "$dir/err" ] && fail "eval --cv warned with converged models: $(cat "$dir/err")"

# A model that learned a record field (meta.subset) reads it from the record
# in route and eval --config too, unless a tag of that name is given.
python3 -c '
import json
for i in range(40):
    easy = i % 2 == 0
    print(json.dumps({"id": i, "query": "question %d" % i, "meta": {"subset": "easy" if easy else "hard", "small": "small", "large": "large"},
                      "label_small_ok": 1 if easy else 0, "quality": {"small": 1 if easy else 0, "large": 1}}))' >"$dir/subject.jsonl"
"$costroute" train --data "$dir/subject.jsonl" --context-fields meta.subset --out "$dir/subject.json" >/dev/null ||
  fail "train --context-fields meta.subset"
"$costroute" score --model "$dir/subject.json" --data "$dir/subject.jsonl" >"$dir/subject.scores"
# Data without the field the model learned is scored from the text, with a warning.
sed 's/"subset": "[a-z]*", //' "$dir/subject.jsonl" >"$dir/no_subject.jsonl"
for command in score "eval --cost-small 0.1 --cost-large 1"; do
  "$costroute" $command --model "$dir/subject.json" --data "$dir/no_subject.jsonl" >/dev/null 2>"$dir/err" ||
    fail "$command without the model's context field exited $?: $(cat "$dir/err")"
  [ "$(cat "$dir/err")" = "costroute ${command%% *}: warning: no record has the model's context field \"meta.subset\": every score comes from the text alone, as for a value never seen in training" ] ||
    fail "$command without the model's context field: stderr [$(cat "$dir/err")]"
done
grep -q subset "$dir/no_subject.jsonl" && fail "no_subject.jsonl still has the field"
# Text that Python escaped as lone surrogates (errors="surrogateescape") is routed, read as U+FFFD.
python3 -c 'import json; print(json.dumps({"id": "s", "query": b"caf\xe9 au lait".decode("utf-8", "surrogateescape")}))' \
  >"$dir/surrogate.jsonl"
grep -q 'udce9' "$dir/surrogate.jsonl" || fail "the surrogate test input lacks its escape: $(cat "$dir/surrogate.jsonl")"
"$costroute" route --config "$dir/config.json" --model "$dir/subject.json" --data "$dir/surrogate.jsonl" >"$dir/out" \
  2>"$dir/err" || fail "route refused a lone surrogate: $(cat "$dir/err")"
grep -q '"id":"s"' "$dir/out" || fail "route gave no decision for a lone surrogate: $(cat "$dir/out")"
"$costroute" route --config "$dir/config.json" --model "$dir/subject.json" --data "$dir/subject.jsonl" >"$dir/subject.routes"
python3 -c '
import json, sys
scores = [json.loads(l)["p_small_ok"] for l in open(sys.argv[1])]
routed = [json.loads(l)["signals"]["p_small_ok"] for l in open(sys.argv[2])]
sys.exit(0 if scores == routed and min(scores[0::2]) > max(scores[1::2]) else 1)' "$dir/subject.scores" "$dir/subject.routes" ||
  fail "route did not read meta.subset from the records as score does"
head -1 "$dir/subject.jsonl" | sed 's/"query"/"tags": {"meta.subset": "hard"}, "query"/' |
  "$costroute" route --config "$dir/config.json" --model "$dir/subject.json" >"$dir/out"
python3 -c '
import json, sys
tagged = json.load(open(sys.argv[1]))["signals"]["p_small_ok"]
hard = json.loads(open(sys.argv[2]).readlines()[1])["p_small_ok"]
sys.exit(0 if tagged == hard else 1)' "$dir/out" "$dir/subject.scores" || fail "a tag did not override the record field"

# --extra-data: other prompt sets, one per file, learned beside the data at
# --extra-weight (default 0.1), never measured; recorded in the model.
{
  for i in $(seq 1 15); do
    echo "{\"query\":\"name the largest city of region $i\",\"quality\":{\"s\":9,\"l\":9},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
    echo "{\"query\":\"prove lemma $i and explain each step\",\"quality\":{\"s\":2,\"l\":8},\"meta\":{\"small\":\"s\",\"large\":\"l\"}}"
  done
} >"$dir/extra.jsonl"
"$costroute" train --data "$dir/three.jsonl" --out "$dir/extra_model.json" --learn cheap-quality \
  --extra-data "$dir/extra.jsonl" >"$dir/extra_train.out" 2>"$dir/err" || fail "train --extra-data exited $?: $(cat "$dir/err")"
grep -q '"n_examples":66' "$dir/extra_train.out" || fail "train --extra-data did not learn from 36 + 30 examples: $(cat "$dir/extra_train.out")"
grep -q "\"extra_data\": *\"$dir/extra.jsonl\"" "$dir/extra_model.json" || fail "the model does not record its extra data: $(cat "$dir/extra_model.json")"
grep -q '"extra_weight": *"0.1"' "$dir/extra_model.json" || fail "the model does not record the extra weight"
"$costroute" score --model "$dir/extra_model.json" --data "$dir/three.jsonl" >"$dir/extra.scores" || fail "score extra"
cmp -s "$dir/extra.scores" "$dir/cheap_three.scores" && fail "--extra-data scored as without it"
"$costroute" train --data "$dir/three.jsonl" --out "$dir/extra_heavy.json" --learn cheap-quality \
  --extra-data "$dir/extra.jsonl" --extra-weight 2 >/dev/null 2>"$dir/err" || fail "train --extra-weight 2 exited $?: $(cat "$dir/err")"
"$costroute" score --model "$dir/extra_heavy.json" --data "$dir/three.jsonl" >"$dir/extra_heavy.scores" || fail "score extra_heavy"
cmp -s "$dir/extra.scores" "$dir/extra_heavy.scores" && fail "--extra-weight 2 scored as 0.1"
"$costroute" eval --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/extra.jsonl" --json >"$dir/extra_eval" 2>"$dir/err" ||
  fail "eval --cv --extra-data exited $?: $(cat "$dir/err")"
grep -q '"n":40,' "$dir/extra_eval" || fail "eval --cv --extra-data measured more than the data: $(cat "$dir/extra_eval")"
"$costroute" calibrate --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/extra.jsonl" --json >/dev/null 2>"$dir/err" ||
  fail "calibrate --cv --extra-data exited $?: $(cat "$dir/err")"
expect_error 1 "costroute train: --extra-weight weighs the examples of --extra-data: give that too" \
  "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --extra-weight 0.5
for bad in 0 -1 1e13; do
  expect_error 1 "costroute train: --extra-weight: expected a number in (0, 1e12]" \
    "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --extra-data "$dir/extra.jsonl" --extra-weight "$bad"
done
expect_error 1 "costroute eval: --extra-data: $dir/./routing.jsonl is also the --data file $dir/routing.jsonl; its prompts would be trained on and measured" \
  "$costroute" eval --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/./routing.jsonl"
# A prompt of the data in an extra set would be trained on where it is
# measured: such records are left out, and a copy of the data is refused.
cp "$dir/routing.jsonl" "$dir/routing_copy.jsonl"
expect_error 1 "costroute eval: --extra-data: every record of $dir/routing_copy.jsonl repeats a prompt of --data: nothing to add" \
  "$costroute" eval --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/routing_copy.jsonl"
{ cat "$dir/extra.jsonl"; head -3 "$dir/routing.jsonl"; } >"$dir/extra_repeats.jsonl"
"$costroute" eval --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/extra_repeats.jsonl" --json \
  >"$dir/extra_repeats_eval" 2>"$dir/err" || fail "eval --extra-data with repeats exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute eval: note: 3 of the 33 records of $dir/extra_repeats.jsonl repeat a prompt of --data and are left out" ] ||
  fail "eval --extra-data with repeats: $(cat "$dir/err")"
cmp -s "$dir/extra_repeats_eval" "$dir/extra_eval" || fail "the repeats were not left out: $(cat "$dir/extra_repeats_eval")"
expect_error 1 "costroute eval: --extra-data: $dir/./extra.jsonl and $dir/extra.jsonl are the same file; give it once" \
  "$costroute" eval --cv 3 --data "$dir/routing.jsonl" --extra-data "$dir/extra.jsonl,$dir/./extra.jsonl"
expect_error 1 "costroute train: --extra-data: empty value (leave the flag out for its default)" \
  "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --extra-data ""
cp "$dir/extra.jsonl" "$dir/extra_copy.jsonl"
expect_error 1 "costroute train: --out $dir/extra_copy.jsonl is also the --extra-data file; not overwriting it" \
  "$costroute" train --data "$dir/three.jsonl" --out "$dir/extra_copy.jsonl" --extra-data "$dir/extra_copy.jsonl"
cmp -s "$dir/extra.jsonl" "$dir/extra_copy.jsonl" || fail "train overwrote its --extra-data file"
printf '%s\n' '{"query":"heavy","label_small_ok":1,"w":1e12}' '{"query":"light","label_small_ok":0,"w":1}' >"$dir/extra_heavy.jsonl"
printf '%s\n' '{"query":"a b","label_small_ok":1,"w":1}' '{"query":"c d","label_small_ok":0,"w":1}' >"$dir/light.jsonl"
expect_error 1 "costroute train: $dir/extra_heavy.jsonl: record 1: its weight 1e+12 times --extra-weight 2 is above 1e12" \
  "$costroute" train --data "$dir/light.jsonl" --out "$dir/x.json" --weight-field w --extra-data "$dir/extra_heavy.jsonl" --extra-weight 2
# A context field that the extra file lacks: a warning naming the file.
printf '%s\n' '{"query":"a b","label_small_ok":1,"kind":"x"}' '{"query":"c d","label_small_ok":0,"kind":"y"}' >"$dir/kinds.jsonl"
"$costroute" train --data "$dir/kinds.jsonl" --out "$dir/x.json" --context-fields kind --extra-data "$dir/extra.jsonl" \
  >/dev/null 2>"$dir/err" || fail "train --context-fields with --extra-data exited $?: $(cat "$dir/err")"
[ "$(cat "$dir/err")" = "costroute train: warning: no record of the --extra-data file $dir/extra.jsonl has the context field \"kind\": its examples are learned without it" ] ||
  fail "the warning for an extra file without the context field: $(cat "$dir/err")"
for command in eval calibrate; do
  expect_error 1 "costroute $command: --extra-data does not apply with --model, whose scores are used as they are" \
    "$costroute" $command --model "$dir/m.json" --data "$dir/routing.jsonl" --extra-data "$dir/extra.jsonl"
done
expect_error 1 "costroute train: $dir/train.jsonl: record 1 has no \"quality\" map, which every record of --data has (a target learned from the qualities needs them in every example)" \
  "$costroute" train --data "$dir/three.jsonl" --out "$dir/x.json" --learn cheap-quality --extra-data "$dir/train.jsonl"
# calibrate compares its extra examples with those the config's model was trained with.
mkdir -p "$dir/extra_cal"
cp "$dir/extra_model.json" "$dir/extra_cal/model.json"
cp "$dir/config.json" "$dir/extra_cal/config.json"
"$costroute" calibrate --data "$dir/three.jsonl" --cost-small 0.1 --cost-large 1 --cv 3 --bootstrap 50 --force \
  --learn cheap-quality --config "$dir/extra_cal/config.json" --out "$dir/extra_cal/out.json" >/dev/null 2>"$dir/err" ||
  fail "calibrate of a model with extra examples exited $?: $(cat "$dir/err")"
grep -q "was trained as \"C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none target=cheap-quality extra_data=$dir/extra.jsonl extra_weight=0.1\"" "$dir/err" ||
  fail "calibrate did not tell the extra examples apart: $(cat "$dir/err")"
"$costroute" calibrate --data "$dir/three.jsonl" --cost-small 0.1 --cost-large 1 --cv 3 --bootstrap 50 --force \
  --learn cheap-quality --extra-data "$dir/extra.jsonl" --config "$dir/extra_cal/config.json" --out "$dir/extra_cal/out.json" \
  >/dev/null 2>"$dir/err" || fail "calibrate --extra-data exited $?: $(cat "$dir/err")"
grep -q "trained as" "$dir/err" && fail "calibrate warned although the extra examples match: $(cat "$dir/err")"
printf '%s\n' '{"query":"fine","label_small_ok":1}' '{"query":' >"$dir/extra_bad.jsonl"
"$costroute" train --data "$dir/train.jsonl" --out "$dir/x.json" --extra-data "$dir/extra_bad.jsonl" >/dev/null 2>"$dir/err" &&
  fail "train read a malformed --extra-data file"
grep -q "^costroute train: $dir/extra_bad.jsonl:2: " "$dir/err" || fail "a malformed --extra-data file is not named: $(cat "$dir/err")"
[ "$(wc -l <"$dir/err")" = 1 ] || fail "a malformed --extra-data file: more than one line: $(cat "$dir/err")"

if [ "$failures" -gt 0 ]; then
  echo "$failures CLI check(s) failed" >&2
  exit 1
fi
echo "all CLI checks passed"
