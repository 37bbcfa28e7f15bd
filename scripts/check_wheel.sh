#!/usr/bin/env bash
# What a user gets from `pip install selfinstruct`: build the wheel, install it WITHOUT extras into a
# fresh virtualenv, and run every main command from a folder outside the repository, against
# loopback servers on 127.0.0.1. An editable install hides a missing dependency or data file; this
# does not. Fails on any non-zero exit or traceback. Tiny data, no model download.
#   bash scripts/check_wheel.sh     (KEEP=1 keeps the temporary folder; REUSE=that folder skips the
#                                    build and install and runs the commands again on its virtualenv)
# Set PYTHON to the interpreter to build the virtualenv from, SELFINSTRUCT_TORCH as in install.sh.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-python3}
WORK=${REUSE:-$(mktemp -d "${TMPDIR:-/tmp}/selfinstruct-wheel.XXXXXX")}
LOGS=$WORK/logs VENV=$WORK/venv
[ -z "${REUSE:-}" ] || { KEEP=1; rm -rf "$LOGS" "$WORK/run" "$WORK/home" "$WORK/registry"; }
mkdir -p "$LOGS" "$WORK/run" "$WORK/home"
PIDS=()
finish() {
    local status=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$status" != 0 ] || [ "${KEEP:-0}" = 1 ]; then echo "logs kept in $LOGS"
    else rm -rf "$WORK"; echo "removed $WORK ($SECONDS s in all)"; fi
}
trap finish EXIT

fail() { echo "FAIL $1: $2" >&2; for f in "$LOGS/$1".*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }
no_traceback() { ! grep -l "Traceback" "$LOGS/$1".* >/dev/null 2>&1 || fail "$1" "a traceback"; }
# step NAME CMD...: run CMD (stdin from $STDIN, else nothing); fail on a non-zero exit or a traceback.
step() {
    local name=$1 status=0 start=$SECONDS; shift
    "$@" <"${STDIN:-/dev/null}" >"$LOGS/$name.out" 2>"$LOGS/$name.err" || status=$?
    [ "$status" = 0 ] || fail "$name" "exit status $status"
    no_traceback "$name"
    echo "ok   $name ($((SECONDS - start)) s)"
}
# refused NAME STATUS PATTERN CMD...: CMD must exit with STATUS and say PATTERN on a line of stderr.
refused() {
    local name=$1 want=$2 pattern=$3 status=0; shift 3
    "$@" </dev/null >"$LOGS/$name.out" 2>"$LOGS/$name.err" || status=$?
    [ "$status" = "$want" ] || fail "$name" "exit status $status, expected $want"
    no_traceback "$name"
    grep -q -- "$pattern" "$LOGS/$name.err" || fail "$name" "stderr does not say '$pattern'"
    echo "ok   $name (exit $status: $(grep -- "$pattern" "$LOGS/$name.err"))"
}
has() { grep -q -- "$2" "$1" || { echo "FAIL: $1 lacks '$2'" >&2; exit 1; }; }
# start_server NAME CMD...: start a server in the background (in this shell, so that `finish` stops
# it); its first stdout line is its URL, left in $URL.
start_server() {
    local name=$1; shift
    "$@" >"$LOGS/$name.url" 2>"$LOGS/$name.err" &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$LOGS/$name.url" ] && break; sleep 0.1; done
    [ -s "$LOGS/$name.url" ] || fail "$name" "no URL"
    URL=$(head -n 1 "$LOGS/$name.url")
}

t0=$SECONDS
echo "== build and install (in $WORK)"
[ -n "${REUSE:-}" ] || {
# from a copy of the files git tracks or would track: no stale build/ folder, nothing left in the repo
mkdir "$WORK/src"
git -C "$REPO" ls-files -z --cached --others --exclude-standard \
    | tar -C "$REPO" --null --ignore-failed-read -T - -cf - | tar -xf - -C "$WORK/src"
"$PY" -m pip wheel -q --no-deps -w "$WORK/dist" "$WORK/src" >"$LOGS/build.out" 2>&1 || fail build "pip wheel"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >"$LOGS/pip.out" 2>&1 || fail pip "upgrade"
# torch first, pinned: a range that admits a newer release would pull the CUDA wheels (as install.sh)
"$VENV/bin/python" -m pip install -q --no-compile "${SELFINSTRUCT_TORCH:-torch==2.13.0}" >"$LOGS/torch.out" 2>&1 || fail torch "install"
"$VENV/bin/python" -m pip install -q --no-compile "$WORK"/dist/selfinstruct-*.whl >"$LOGS/wheel.out" 2>&1 || fail wheel "install"
}
echo "installed in $((SECONDS - t0)) s"
t1=$SECONDS

# Outside the repository, with a home of its own: no source tree, no cached built-in model, no key.
cd "$WORK/run"
export HOME=$WORK/home SELFINSTRUCT_REGISTRY=$WORK/registry PYTHONPATH= PYTHONNOUSERSITE=1
unset OPENAI_API_KEY OPENAI_BASE_URL SELFINSTRUCT_CACHE XDG_DATA_HOME XDG_CACHE_HOME
SI=$VENV/bin/selfinstruct
KEY=(--api-key sk-loopback)

echo "== commands"
step version "$SI" --version
step module-version "$VENV/bin/python" -m selfinstruct --version
step site "$VENV/bin/python" -c "
import commands, registry, webapp
assert all(m.__file__.startswith('$VENV/') for m in (commands, registry, webapp)), 'not the installed wheel'"

"$VENV/bin/python" - <<'EOF'
import json
verbs = ["Describe", "List", "Explain", "Summarize", "Compare", "Suggest"]
things = ["a river delta", "a lunar eclipse", "compound interest", "a sourdough starter", "jet lag", "a haiku",
          "tidal power", "a bicycle gear", "photosynthesis", "a credit score", "a glacier", "an orchestra"]
rows = [{"instruction": f"{verbs[i % 6]} {t} for a curious ten-year-old.", "input": "" if i % 3 else f"Keep it under {i + 20} words.",
         "output": f"Here is how {t} works, in plain words and one example number: {i * 7}."} for i, t in enumerate(things)]
rows.append(dict(rows[0]))  # an exact duplicate, for dedup to drop
with open("tiny.jsonl", "w", encoding="utf-8") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
json.dump([{"instruction": r["instruction"], "output": f"{r['output']} quality {1 + i % 3}", "generator": "a"}
           for i, r in enumerate(rows[:12])], open("a.json", "w"))
json.dump([{"instruction": r["instruction"], "output": f"{r['output']} quality 2", "generator": "b"}
           for r in rows[:12]], open("b.json", "w"))
EOF

step import "$SI" registry import tiny.jsonl --name tiny --licence cc-by-4.0 --generator hand-written
step list "$SI" registry list
has "$LOGS/list.out" tiny
step show "$SI" registry show tiny@1
step datasheet-md "$SI" registry datasheet tiny@1 --output tiny.md
has tiny.md "cc-by-4.0"
step datasheet-html "$SI" registry datasheet tiny@1 --html tiny.html
has tiny.html "<svg"  # matplotlib's plots, inlined
for fmt in jsonl alpaca-json parquet hf messages sharegpt; do
    step "export-$fmt" "$SI" registry export tiny@1 --format "$fmt" --output "out.$fmt"
done
has out.hf/README.md "cc-by-4.0"
has out.messages '"role": "assistant"'
has out.sharegpt '"from": "gpt"'
step import-messages "$SI" registry import out.messages --name back --format messages
step import-sharegpt "$SI" registry import out.sharegpt --name back --format sharegpt
step import-parquet "$SI" registry import out.parquet --name back --format parquet
step import-alpaca-json "$SI" registry import out.alpaca-json --name back --format alpaca-json
step dedup "$SI" dedup tiny.jsonl -o dedup.jsonl --minhash-threshold 0.8 --dropped gone.jsonl
[ -s dedup.jsonl ] && [ -s gone.jsonl ] || fail dedup "expected records kept and dropped"
step registry-dedup "$SI" registry dedup tiny@1 --into tiny-dedup
step diff "$SI" registry diff tiny@1 tiny-dedup@1

# The loopback servers of the test suite: stdlib only, run from the repository by the building Python.
start_server loopback env PYTHONPATH="$REPO" "$PY" -m tests.loopback_server --latency-s 0 --tasks-per-reply 8
LOOP=$URL
start_server judge env PYTHONPATH="$REPO" "$PY" -m tests.judge_server --latency-s 0
JUDGE=$URL
start_server score env PYTHONPATH="$REPO" "$PY" -c "
import threading
from tests.curation.score_server import ScoreServer
with ScoreServer() as server:
    print(server.url, flush=True)
    threading.Event().wait()"
SCORE=$URL

# default seeds, the prompt template and the pricing table, all from the wheel
step generate "$SI" generate -n 5 --base-url "$LOOP" "${KEY[@]}" --model loopback -o gen.jsonl
[ "$(wc -l <gen.jsonl)" = 5 ] || fail generate "expected 5 records"
step generate-priced "$SI" generate -n 5 --model gpt-4o-mini "${KEY[@]}" -o priced.jsonl --dry-run
has "$LOGS/generate-priced.out" '\$'
step generate-self-instruct "$SI" generate -n 5 --base-url "$LOOP" "${KEY[@]}" --model loopback \
    --method self-instruct -o si.jsonl --dry-run
step generate-dataset "$SI" generate -n 5 --base-url "$LOOP" "${KEY[@]}" --model loopback --dataset grown
step judge "$SI" eval judge --a a.json --b b.json --judge-model loopback-judge --base-url "$JUDGE" "${KEY[@]}" \
    -o cmp --n-boot 100
[ -s cmp/results.json ] || fail judge "no results.json"
step score "$SI" registry score tiny@1 --scorer judge --judge-model loopback-scorer --base-url "$SCORE" "${KEY[@]}" -q
step select "$SI" registry select tiny@1 --top 6 --by judge --into tiny-best
printf 'Name a river.\n' >chat.in
STDIN=chat.in step chat "$SI" chat --base-url "$LOOP" "${KEY[@]}" --model-name loopback --temperature 0
[ -s "$LOGS/chat.out" ] || fail chat "no reply"

# finetune on CPU: a tiny random model, the bundled tiny-cpu recipe and alpaca template, two steps
step tiny-model "$SI" finetune tiny-model tiny-llama --dataset tiny@1 --vocab-size 300
step finetune-plan "$SI" finetune plan --dataset tiny@1 --model tiny-llama --recipe tiny-cpu
step finetune-run "$SI" finetune run --dataset tiny@1 --model tiny-llama --recipe tiny-cpu --output tuned \
    max_steps=2 eval_fraction=0 progress_bar=false
step answer "$SI" eval answer --model tuned --set dedup.jsonl -o answers.json --max-new-tokens 4

# the built-in model is an extra: each command that would use it names the pip install that brings it
INSTALL="pip install 'selfinstruct\[local\]'"
refused builtin-generate 2 "$INSTALL" "$SI" generate -n 2 -o builtin.jsonl
refused builtin-finetune 2 "$INSTALL" "$SI" finetune run --dataset tiny@1 --model smollm2 --output runs/x
[ "$(grep -c . "$LOGS/builtin-finetune.err")" = 1 ] || fail builtin-finetune "more than one line"

echo "== serve"
PORT=$("$VENV/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$SI" serve --port "$PORT" --chat-endpoint "$LOOP" --chat-model-name loopback >"$LOGS/serve.out" 2>"$LOGS/serve.err" &
SERVE=$!
PIDS+=($SERVE)
BASE=http://127.0.0.1:$PORT
get() {  # URL FILE: GET URL into FILE; fails unless the answer is 200
    "$VENV/bin/python" -c "import sys, urllib.request as u; open(sys.argv[2], 'wb').write(u.urlopen(sys.argv[1], timeout=60).read())" "$@"
}
for _ in $(seq 300); do get "$BASE/" /dev/null 2>/dev/null && break; sleep 0.1; done
page() {  # NAME PATH TEXT: GET must answer 200 with TEXT in the body
    get "$BASE$2" "$LOGS/page-$1.html" 2>"$LOGS/page-$1.err" || fail "page-$1" "GET $2"
    has "$LOGS/page-$1.html" "$3"
    echo "ok   page $1 ($2)"
}
page index / tiny
page version /v/tiny@1 tiny
page records /v/tiny@1/records "river delta"
page record /v/tiny@1/records/0 "river delta"
page datasheet /v/tiny@1/datasheet "<svg"
page drops /v/grown@1/drops grown
page diff "/diff?a=tiny@1&b=tiny-dedup@1" tiny
page studies /studies "<form"
page chat /chat "<form"
page css /static/app.css "{"
page js /static/app.js "function"
kill "$SERVE"
wait "$SERVE" 2>/dev/null || true
no_traceback serve

for name in loopback judge score; do no_traceback "$name"; done
echo "wheel check passed: built and installed in $((t1 - t0)) s, commands in $((SECONDS - t1)) s"
