#!/usr/bin/env bash
# lifeboat's benchmark: lifeboat against the classic tutorial's Flask app under
# gunicorn and against a constant-answer axum server (the ceiling), in one run
# on this machine, every answer checked under load.
#
#   bench/run.sh            the full run (about 30 minutes)
#   bench/run.sh --quick    about a minute: one round of 1 s loads at 64 connections only (the
#                           ceiling is not loaded again before each lifeboat server), one cold
#                           start per server (and that process is the one loaded), a 100k-row CSV
#   bench/run.sh --tune     first try gunicorn configurations, and use the fastest
#                           with no errors and a p99 under 1 s
#   bench/run.sh --no-docs  do not rewrite docs/benchmarks.md
#   bench/run.sh --check    exit 1 if any answer under load was wrong, any scenario failed or any
#                           server did not start (CI runs `--quick --no-docs --check`)
#
# Environment: BENCH_DATA (train.csv), BENCH_PORT (first port, 18080),
# BENCH_LIFEBOAT (another lifeboat binary), BENCH_GUNICORN_BEST (gunicorn options),
# BENCH_ROUNDS and BENCH_DURATION (rounds, and seconds per load: more on a noisy machine).
#
# Needs: the README's set-up (Rust), Python 3 with venv, and root or sudo the first
# time (apt-get install wrk time). Kaggle's train.csv at ../shared/data/titanic/
# (or BENCH_DATA=path) for the reference app; without it, only lifeboat and the
# ceiling run. Results: bench/results/<time>/ (JSON lines, CSV, logs) and
# docs/benchmarks.md. Every server listens on 127.0.0.1 only, from BENCH_PORT (18080) up.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
VENV=$BENCH/.venv
PY=$VENV/bin/python
DATA=${BENCH_DATA:-$ROOT/../shared/data/titanic/train.csv}
BASE_PORT=${BENCH_PORT:-18080}
# BENCH_LIFEBOAT=path: measure another lifeboat binary (say, a build from before a change).
LIFEBOAT=${BENCH_LIFEBOAT:-$ROOT/target/release/lifeboat}
CEILING=$ROOT/target/release/examples/ceiling
# The best gunicorn configuration for 2 cores when not tuning: gthread 2×8 (2026-11-25; on
# 2026-11-26, quiet machine, it did 2,109/s with p99 60 ms, gthread 3×4 2,177/s with p99
# 136 ms, and gevent 2 workers 2,214/s with p99 6 s). --tune runs TUNE_CONFIGS and uses the
# one with the most requests/s on the machine that measures.
GUNICORN_BEST=${BENCH_GUNICORN_BEST:---workers 2 --worker-class gthread --threads 8}
# gunicorn configurations --tune tries (on the JSON route, logistic model, 64 connections).
TUNE_CONFIGS=(
  "--workers 1"
  "--workers 2"
  "--workers 3"
  "--workers 4"
  "--workers 5"
  "--workers 2 --worker-class gthread --threads 2"
  "--workers 2 --worker-class gthread --threads 4"
  "--workers 2 --worker-class gthread --threads 8"
  "--workers 3 --worker-class gthread --threads 4"
  "--workers 4 --worker-class gthread --threads 2"
  "--workers 2 --worker-class gevent"
  "--workers 3 --worker-class gevent"
  "--workers 4 --worker-class gevent"
  "--workers 4 --preload"
)

QUICK=0 TUNE=0 DOCS=1 CHECK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --tune) TUNE=1 ;;
    --no-docs) DOCS=0 ;;
    --check) CHECK=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done
# Servers are loaded in ROUNDS: in each, scenario by scenario, every server once, one after
# another, so that a change in what else the machine does hits every server alike (the report
# takes medians over rounds, and each ratio as the median of its per-round ratios). DURATION is
# per load and round.
# CONNECTIONS: wrk's connection counts per load. PAIRED: load the ceiling again just before each
# lifeboat server (see the rounds below).
if ((QUICK)); then
  ROUNDS=1 DURATION=1 WARMUP=0 TUNE_DURATION=1 COLD_REPEAT=1 CSV_SIZES=(100000) CONNECTIONS=64 PAIRED=0
else
  ROUNDS=5 DURATION=3 WARMUP=2 TUNE_DURATION=8 COLD_REPEAT=5 CSV_SIZES=(100000 1000000) CONNECTIONS=64,8 PAIRED=1
fi
ROUNDS=${BENCH_ROUNDS:-$ROUNDS} DURATION=${BENCH_DURATION:-$DURATION}
for setting in ROUNDS DURATION; do
  [[ ${!setting} =~ ^[1-9][0-9]{0,2}$ ]] ||
    { echo "bench/run.sh: BENCH_$setting must be a whole number from 1 to 999, not '${!setting}'" >&2; exit 2; }
done

# Nothing from the caller's environment may change how a server runs.
unset WEB_CONCURRENCY GUNICORN_CMD_ARGS PORT RUST_LOG
while read -r name; do unset "$name"; done < <(compgen -e | grep '^LIFEBOAT_' || true)
# Python commands run with the machine's BLAS core-type overrides removed (they slow numpy).
PYENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

say() { printf '\n== %s\n' "$*" >&2; }
note() { printf '   %s\n' "$*" >&2; }
SKIPPED=()
skip() { note "SKIPPED: $*"; SKIPPED+=("$*"); }

# ---- processes: every server is started here and stopped by its PID -------------------------

PIDS=()
alive() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) != Z ]]; }
stop_pid() {
  local pid=$1 i
  alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  # Still there after 10 s, or left workers behind: its whole process group (its PID).
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- set-up ------------------------------------------------------------------------------------

install_debian() {  # PACKAGE...
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  say "installing from Debian's packages: $*"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}

setup() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [[ -x /usr/bin/time ]] || missing+=(time)
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  ((${#missing[@]} == 0)) || install_debian "${missing[@]}"

  local stamp=$VENV/.requirements.sha256 want
  want=$(sha256sum "$BENCH/reference/requirements.txt" | cut -d' ' -f1)
  if [[ ! -x $PY || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    say "Python environment for the reference app: $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/reference/requirements.txt"
    echo "$want" >"$stamp"
  fi

  # Two builds, not one: an example is built with the dev-dependencies, and
  # in one command their features would reach the lifeboat binary too. Apart,
  # the binary measured is the one `cargo run --release` runs (and that
  # command does not relink it after a benchmark run).
  say "cargo build --release --bin lifeboat; cargo build --release --example ceiling"
  cargo build --release --quiet --bin lifeboat
  cargo build --release --quiet --example ceiling
}

# Does this lifeboat have `serve` (the web app) and the pickle import with --schema?
HAVE_SERVE=0 HAVE_PICKLE=0 HAVE_PICKLE_PREDICT=0
TUTORIAL_SCHEMA=$ROOT/examples/tutorial/titanic_tutorial.toml
detect() {
  if "$LIFEBOAT" serve --help >/dev/null 2>&1; then HAVE_SERVE=1; fi
  if ((HAVE_SERVE)) && [[ -f $TUTORIAL_SCHEMA ]] && "$LIFEBOAT" serve --help 2>&1 | grep -q -- '--schema'; then
    HAVE_PICKLE=1
  fi
  if [[ -f $TUTORIAL_SCHEMA ]] && "$LIFEBOAT" predict --help 2>&1 | grep -q -- '--schema'; then
    HAVE_PICKLE_PREDICT=1
  fi
  ((HAVE_SERVE)) || skip "lifeboat's server scenarios: this build has no 'lifeboat serve' yet (the web app)."
  ((HAVE_PICKLE)) || skip "lifeboat serving the reference app's pickles: needs 'serve --schema' and examples/tutorial/titanic_tutorial.toml (the pickle import)."
  ((HAVE_PICKLE_PREDICT)) || skip "'lifeboat predict' on the reference app's pickles: needs 'predict --schema' and examples/tutorial/titanic_tutorial.toml (the pickle import)."
}

CACHE=$BENCH/results/cache
MODELS=$CACHE/models
HAVE_DATA=0
train_reference() {
  if [[ ! -f $DATA ]]; then
    skip "the reference app (gunicorn), pandas + scikit-learn, and every pickle scenario: no $DATA (Kaggle's Titanic train.csv; set BENCH_DATA)."
    return 0
  fi
  HAVE_DATA=1
  if [[ ! -f $MODELS/model_forest.pkl || $DATA -nt $MODELS/model_forest.pkl || $BENCH/reference/train.py -nt $MODELS/model_forest.pkl ]]; then
    say "training the reference models (scikit-learn) from $DATA"
    "${PYENV[@]}" "$PY" "$BENCH/reference/train.py" "$DATA" "$MODELS"
  fi
}

# ---- servers -----------------------------------------------------------------------------------
# One line per server: name | scenarios | where the expected answers come from | encoding of
# the request bodies: named (Sex "male", Embarked "S") or coded (the tutorial's numbers).
# server_command NAME PORT fills CMD with the command that starts it on 127.0.0.1:PORT.

SERVERS=()
plan_servers() {
  SERVERS+=("ceiling|json,form,mlflow,oip|none|named")
  if ((HAVE_DATA)); then
    local m
    for m in logistic forest; do
      SERVERS+=("gunicorn-heroku/sklearn-$m|json,form,mlflow|sklearn:$MODELS/model_$m.pkl|coded")
      SERVERS+=("gunicorn-best/sklearn-$m|json,form,mlflow|sklearn:$MODELS/model_$m.pkl|coded")
    done
  fi
  if ((HAVE_SERVE)); then
    SERVERS+=("lifeboat/builtin-logistic|json,form,mlflow,oip|lifeboat:builtin:titanic-logistic|named")
    SERVERS+=("lifeboat/builtin-gbdt|json,form,mlflow,oip|lifeboat:builtin:titanic-gbdt|named")
  fi
  if ((HAVE_PICKLE && HAVE_DATA)); then
    SERVERS+=("lifeboat/pickle-logistic|json,form,mlflow,oip|sklearn:$MODELS/model_logistic.pkl|coded")
    SERVERS+=("lifeboat/pickle-forest|json,form,mlflow,oip|sklearn:$MODELS/model_forest.pkl|coded")
  fi
}

gunicorn_command() {  # PORT MODEL CONFIG-ARGS...
  local port=$1 model=$2
  shift 2
  CMD=("${PYENV[@]}" MODEL="$MODELS/model_$model.pkl" "$VENV/bin/gunicorn" --chdir "$BENCH/reference"
    --bind "127.0.0.1:$port" "$@" app:app)
}

server_command() {  # NAME PORT
  local name=$1 port=$2 best
  read -r -a best <<<"$GUNICORN_BEST"
  case $name in
    ceiling) CMD=("$CEILING" --port "$port") ;;
    # Heroku runs `gunicorn app:app` from the Procfile with WEB_CONCURRENCY set by the
    # Python buildpack; gunicorn takes it as its worker count (sync workers).
    gunicorn-heroku/sklearn-*) gunicorn_command "$port" "${name#*sklearn-}"; CMD=(env WEB_CONCURRENCY=2 "${CMD[@]}") ;;
    gunicorn-best/sklearn-*) gunicorn_command "$port" "${name#*sklearn-}" "${best[@]}" ;;
    lifeboat/builtin-*) CMD=("$LIFEBOAT" serve --model "builtin:titanic-${name#*builtin-}" --host 127.0.0.1 --port "$port") ;;
    lifeboat/pickle-*) CMD=("$LIFEBOAT" serve --model "$MODELS/model_${name#*pickle-}.pkl" --schema "$TUTORIAL_SCHEMA"
      --host 127.0.0.1 --port "$port") ;;
    tune/*) local options; read -r -a options <<<"${name#tune/}"; gunicorn_command "$port" logistic "${options[@]}" ;;
    *) echo "unknown server $name" >&2; return 1 ;;
  esac
}

oip_model() {  # NAME: the model name in /v2/models/{name}/infer
  case $1 in
    lifeboat/pickle-*) sed -n 's/^name *= *"\(.*\)".*/\1/p' "$TUTORIAL_SCHEMA" | head -1 ;;
    *) echo titanic ;;
  esac
}

wait_ready() {  # PID PORT LOG ENCODING: bounded polling for a 200 from the JSON route
  local pid=$1 port=$2 log=$3 encoding=$4 i
  for ((i = 0; i < 1200; i++)); do   # 60 s
    if curl -sf -o /dev/null --max-time 2 -H 'Content-Type: application/json' \
      --data-binary @"$RUN/passenger-$encoding.json" "http://127.0.0.1:$port/api/v1/predict"; then
      return 0
    fi
    if ! alive "$pid"; then
      echo "the server exited before it was ready; its log ($log):" >&2
      tail -20 "$log" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "the server was not ready within 60 s; its log: $log" >&2
  return 1
}

cold_start() {  # NAME ENCODING PORT [keep]: median time from process start to the first 200.
  # With keep, the last start stays up (SERVER_PID) to be loaded: a --quick run starts each server once.
  local name=$1 encoding=$2 port=$3 keep=${4:-} log out coded=() keep_arg=()
  [[ $encoding == coded ]] && coded=(--coded)
  [[ $keep == keep ]] && keep_arg=(--keep)
  log=$RUN/logs/${name//\//_}.log
  port_free "$port" || { echo "port $port is in use; set BENCH_PORT to another base port" >&2; return 1; }
  server_command "$name" "$port"
  [[ $keep == keep ]] && echo "$name: ${CMD[*]}" >>"$RUN/commands.txt"
  if out=$(cd "$BENCH/tools" && "$PY" coldstart.py --url "http://127.0.0.1:$port" --repeat "$COLD_REPEAT" \
    --log "$log" "${coded[@]}" "${keep_arg[@]}" -- "${CMD[@]}"); then
    echo "{\"server\": \"$name\", \"scenario\": \"cold_start\", ${out#\{}" >>"$RUN/results.jsonl"
    local median=${out##*\"median_ms\": }
    note "$name: cold start ${median%%[,\}]*} ms (median of $COLD_REPEAT)"
    if [[ $keep == keep ]]; then
      [[ $out =~ \"pid\":\ ([0-9]+) ]] || { echo "coldstart.py kept no server: $out" >&2; return 1; }
      SERVER_PID=${BASH_REMATCH[1]}
      PIDS+=("$SERVER_PID")
    fi
  else
    echo "{\"server\": \"$name\", \"scenario\": \"cold_start\", \"failed\": \"see $log\"}" >>"$RUN/results.jsonl"
    return 1
  fi
}

start_server() {  # NAME ENCODING PORT: starts it and waits until it answers; sets SERVER_PID
  local name=$1 encoding=$2 port=$3 log
  log=$RUN/logs/${name//\//_}.log
  port_free "$port" || { echo "port $port is in use; set BENCH_PORT to another base port" >&2; return 1; }
  server_command "$name" "$port"
  echo "$name: ${CMD[*]}" >>"$RUN/commands.txt"
  setsid "${CMD[@]}" >>"$log" 2>&1 </dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  if ! wait_ready "$SERVER_PID" "$port" "$log" "$encoding"; then
    echo "{\"server\": \"$name\", \"scenario\": \"start\", \"failed\": \"not ready; see $log\"}" >>"$RUN/results.jsonl"
    stop_pid "$SERVER_PID"
    return 1
  fi
}

load_server() {  # NAME SCENARIOS EXPECT ENCODING PORT PID ROUND WARMUP [LOAD OPTIONS...]
  local name=$1 scenarios=$2 expect=$3 encoding=$4 port=$5 pid=$6 round=$7 warmup=$8 coded=()
  shift 8
  [[ $encoding == coded ]] && coded=(--coded)
  (cd "$BENCH/tools" && "${PYENV[@]}" "$PY" load.py --name "$name" --url "http://127.0.0.1:$port" --pid "$pid" \
    --scenarios "$scenarios" --expect "$expect" --out "$RUN/results.jsonl" --work "$RUN/work/${name//\//_}" \
    --duration "$DURATION" --warmup "$warmup" --round "$round" --lifeboat "$LIFEBOAT" \
    --connections "$CONNECTIONS" --expected-cache "$RUN/work/expected" \
    --oip-model "$(oip_model "$name")" --log "$RUN/logs/${name//\//_}.log" "${coded[@]}" "$@") ||
    note "$name: some scenarios failed (see above)"
}

tune_server() {  # CONFIG: one gunicorn configuration, started, loaded (JSON, 64 connections), stopped
  local name="tune/$1"
  if start_server "$name" coded "$BASE_PORT"; then
    DURATION=$TUNE_DURATION load_server "$name" json "sklearn:$MODELS/model_logistic.pkl" coded "$BASE_PORT" \
      "$SERVER_PID" 1 "$WARMUP" --connections 64
    stop_pid "$SERVER_PID"
  fi
}

# ---- the batch scenario: one CSV file, scored by the command-line tools ---------------------

bench_batch() {
  local rows named coded out m
  for rows in "${CSV_SIZES[@]}"; do
    # The same rows twice: named for lifeboat's built-in schema, coded for the tutorial's pickle.
    named=$CACHE/passengers-$rows.csv
    coded=$CACHE/passengers-$rows-coded.csv
    mkdir -p "$CACHE"  # (made by training the reference models, which a run without train.csv skips)
    [[ -f $named ]] || "${PYENV[@]}" "$PY" "$BENCH/tools/gen_csv.py" "$rows" "$named"
    [[ -f $coded ]] || "${PYENV[@]}" "$PY" "$BENCH/tools/gen_csv.py" "$rows" "$coded" --coded
    out=$RUN/work/batch
    mkdir -p "$out"
    for m in logistic gbdt; do
      "$PY" "$BENCH/tools/batch.py" --name "lifeboat-predict/builtin-$m" --rows "$rows" --output "$out/lifeboat-$m.csv" \
        --out "$RUN/results.jsonl" -- "$LIFEBOAT" predict --model "builtin:titanic-$m" --input "$named" --output "$out/lifeboat-$m.csv"
    done
    ((HAVE_DATA)) || continue
    for m in logistic forest; do
      "$PY" "$BENCH/tools/batch.py" --name "pandas-sklearn/sklearn-$m" --rows "$rows" --output "$out/pandas-$m.csv" \
        --out "$RUN/results.jsonl" -- "${PYENV[@]}" "$PY" "$BENCH/reference/predict_csv.py" "$MODELS/model_$m.pkl" "$coded" "$out/pandas-$m.csv"
      if ((HAVE_PICKLE_PREDICT)); then
        "$PY" "$BENCH/tools/batch.py" --name "lifeboat-predict/pickle-$m" --rows "$rows" --output "$out/lifeboat-pickle-$m.csv" \
          --compare "$out/pandas-$m.csv" --out "$RUN/results.jsonl" -- "$LIFEBOAT" predict --model "$MODELS/model_$m.pkl" \
          --schema "$TUTORIAL_SCHEMA" --input "$coded" --output "$out/lifeboat-pickle-$m.csv"
      fi
    done
    rm -f "$out"/*.csv
  done
}

# ---- the run -----------------------------------------------------------------------------------

setup
detect
train_reference
RUN=$BENCH/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RUN/logs" "$RUN/work"
# The exact command, with any BENCH_* setting that changed what ran.
{
  while read -r var; do printf '%s=%q ' "$var" "${!var}"; done < <(compgen -e | grep '^BENCH_' || true)
  printf 'bench/run.sh'
  (($# == 0)) || printf ' %q' "$@"
  printf '\n'
} >"$RUN/command.txt"
((${#SKIPPED[@]} == 0)) || printf '%s\n' "${SKIPPED[@]}" >"$RUN/skipped.txt"
for encoding in named coded; do
  "$PY" -c 'import sys; sys.path.insert(0, "bench/tools"); import scenarios as s
print(s.compact(s.encode(s.PASSENGER, sys.argv[1] == "coded")))' "$encoding" >"$RUN/passenger-$encoding.json"
done
# A build that just finished (or anything else) still holds the cores for a while: wait, bounded,
# until they are quiet, so the first loads do not share them.
busy=$("$PY" "$BENCH/tools/report.py" settle)
say "waited for the cores to be quiet (at most 90 s): $busy busy"
"${PYENV[@]}" "$PY" "$BENCH/tools/report.py" machine --lifeboat "$LIFEBOAT" --cpu-busy "$busy" >"$RUN/machine.json"
say "results: $RUN"

if ((TUNE)) && ((HAVE_DATA)); then
  say "trying gunicorn configurations (JSON predict, logistic, 64 connections, ${TUNE_DURATION} s each)"
  for config in "${TUNE_CONFIGS[@]}"; do
    tune_server "$config"
  done
  GUNICORN_BEST=$("$PY" "$BENCH/tools/report.py" best-tune "$RUN")
  note "fastest with no errors and p99 under 1 s: $GUNICORN_BEST"
fi
echo "$GUNICORN_BEST" >"$RUN/gunicorn-best.txt"

plan_servers
# Every expected answer, worked out once here (scikit-learn imported once) and kept in the run.
expect_sources=()
for server in "${SERVERS[@]}"; do
  IFS='|' read -r name scenarios expect encoding <<<"$server"
  [[ $expect == none || " ${expect_sources[*]} " == *" $expect "* ]] || expect_sources+=("$expect")
done
if ((${#expect_sources[@]})); then
  (cd "$BENCH/tools" && "${PYENV[@]}" "$PY" scenarios.py expect "$RUN/work/expected" "$LIFEBOAT" "${expect_sources[@]}") ||
    note "could not work out every expected answer ahead; each load will try again and say what failed"
fi
READY=() READY_PID=() READY_PORT=()
if ((QUICK)); then
  # One start per server: its cold start is timed, then it stays up for the loads. The next
  # server's start waits until this one is quiet (gunicorn's other workers may still be
  # importing scikit-learn after the first answer), so each starts beside idle servers only.
  say "servers: ${#SERVERS[@]}; each started once, one at a time: its cold start, then it stays up for the loads"
  for ((i = 0; i < ${#SERVERS[@]}; i++)); do
    IFS='|' read -r name scenarios expect encoding <<<"${SERVERS[i]}"
    if cold_start "$name" "$encoding" $((BASE_PORT + 1 + i)) keep; then
      READY+=("${SERVERS[i]}") READY_PID+=("$SERVER_PID") READY_PORT+=($((BASE_PORT + 1 + i)))
      "$PY" "$BENCH/tools/procs.py" quiet "$SERVER_PID" >/dev/null
    fi
  done
else
  say "servers: ${#SERVERS[@]}; cold starts, one server at a time with nothing else running"
  for ((i = 0; i < ${#SERVERS[@]}; i++)); do
    IFS='|' read -r name scenarios expect encoding <<<"${SERVERS[i]}"
    cold_start "$name" "$encoding" $((BASE_PORT + 1 + i)) || true
  done
  say "starting every server, each on its own port"
  for ((i = 0; i < ${#SERVERS[@]}; i++)); do
    IFS='|' read -r name scenarios expect encoding <<<"${SERVERS[i]}"
    if start_server "$name" "$encoding" $((BASE_PORT + 1 + i)); then
      READY+=("${SERVERS[i]}") READY_PID+=("$SERVER_PID") READY_PORT+=($((BASE_PORT + 1 + i)))
    fi
  done
fi
CEILING_AT=-1  # the ceiling's index in READY, if it started
for ((k = 0; k < ${#READY[@]}; k++)); do
  [[ ${READY[k]} == ceiling\|* ]] && CEILING_AT=$k
done
# gunicorn answers as soon as one worker is up; the others may still be importing scikit-learn.
# (A --quick run waited for each server to be quiet as it started it.)
((QUICK)) || say "waiting for the cores to be quiet again (at most 90 s): $("$PY" "$BENCH/tools/report.py" settle) busy"
pairing=", the ceiling again at 64 just before each lifeboat load"
((PAIRED)) || pairing=""
say "$ROUNDS round(s): per scenario, each server in turn (reversed every other round), loads of ${DURATION} s at ${CONNECTIONS/,/ and } connections$pairing, wrk -t2, every answer checked"
for ((round = 1; round <= ROUNDS; round++)); do
  say "round $round of $ROUNDS"
  order=()
  for ((k = 0; k < ${#READY[@]}; k++)); do
    if ((round % 2)); then order+=("$k"); else order=("$k" "${order[@]}"); fi
  done
  warmup=0
  ((round == 1)) && warmup=$WARMUP
  # Scenario by scenario, so that two servers' loads of one scenario are a minute or two apart.
  for scenario in json form mlflow oip; do
    for k in "${order[@]}"; do
      IFS='|' read -r name scenarios expect encoding <<<"${READY[k]}"
      [[ ,$scenarios, == *,$scenario,* ]] || continue
      # lifeboat's targets are ratios to the ceiling: load the ceiling (64 connections) just
      # before each lifeboat load, so that each ratio compares loads seconds apart.
      if ((PAIRED)) && [[ $name == lifeboat/* ]] && ((CEILING_AT >= 0)); then
        load_server ceiling "$scenario" none named "${READY_PORT[CEILING_AT]}" "${READY_PID[CEILING_AT]}" \
          "$round" 0 --connections 64 --pair-for "$name"
      fi
      load_server "$name" "$scenario" "$expect" "$encoding" "${READY_PORT[k]}" "${READY_PID[k]}" "$round" "$warmup"
    done
  done
done
for pid in "${READY_PID[@]}"; do stop_pid "$pid"; done

say "batch scoring: ${CSV_SIZES[*]} rows"
bench_batch

say "report"
report_args=("$RUN")
((DOCS)) && report_args+=(--docs "$ROOT/docs/benchmarks.md")
"$PY" "$BENCH/tools/report.py" report "${report_args[@]}"
if ((CHECK)); then
  "$PY" "$BENCH/tools/report.py" check "$RUN"
  note "check: every answer under load was right, every scenario ran"
fi
