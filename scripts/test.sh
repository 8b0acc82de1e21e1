#!/usr/bin/env bash
# Runs every test lifeboat has: the Rust unit, integration and doc tests, then
# the checks that need Python (scikit-learn comparisons, protocol clients).
#
#   scripts/test.sh
#
# Python checks run when their packages are importable (`.ci/run` installs them
# in a virtualenv); elsewhere they are skipped with a message, except under
# CI=true, where a missing package is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests"
cargo nextest run --no-fail-fast
cargo test --doc --quiet
# ONNX support is a cargo feature (see ARCHITECTURE.md): test the build with it
# too (parity with onnxruntime, the ONNX command line, the compatibility ops).
echo "== Rust tests with the onnx feature"
cargo nextest run --features onnx --no-fail-fast

python=${PYTHON:-python3}
have() { "$python" -c "import $1" >/dev/null 2>&1; }
need() {
  if have "$1"; then return 0; fi
  if [ "${CI:-}" = "true" ]; then
    echo "error: python module '$1' is missing (needed for: $2)" >&2
    exit 1
  fi
  echo "skipped: $2 (python module '$1' is not installed; pip install -r scripts/requirements-test.txt)"
  return 1
}

echo "== Logistic regression against scikit-learn"
if need sklearn "the scikit-learn comparison"; then
  if [ -f ../shared/data/titanic/train.csv ]; then
    cargo build --quiet
    "$python" scripts/check_logistic.py
  else
    echo "skipped: ../shared/data/titanic/train.csv is absent (get it from https://www.kaggle.com/competitions/titanic/data)"
  fi
fi
echo "== Web app: third-party clients, a real browser, the Procfile"
bin=target/debug/lifeboat # built by nextest for the integration tests
[ -x "$bin" ] || cargo build --quiet
have_cmd() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "${CI:-}" = "true" ]; then
    echo "error: the command '$1' is missing (needed for: $2)" >&2
    exit 1
  fi
  echo "skipped: $2 ('$1' is not installed; apt-get install chromium chromium-driver)"
  return 1
}
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT
# Starts `lifeboat serve` on a free port and sets $base from the address it logs.
start_server() {
  log=$(mktemp)
  PORT=0 "$bin" serve --host 127.0.0.1 >"$log" 2>&1 &
  server_pid=$!
  base=""
  for _ in $(seq 1 200); do # bounded: at most about 10 s
    addr=$(sed -n 's/.* addr=\([0-9.:]*\) .*/\1/p' "$log" | head -n1)
    if [ -n "$addr" ]; then base="http://$addr"; return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "error: lifeboat serve did not start:" >&2
  cat "$log" >&2
  exit 1
}

if need tritonclient "the conformance check (tritonclient, MLflow requests, OpenAPI)" &&
  need openapi_spec_validator "the conformance check" && need prometheus_client "the conformance check"; then
  start_server
  "$python" scripts/check_serve.py "$base"
  stop_server
fi

if need selenium "the browser test" && have_cmd chromium "the browser test" &&
  have_cmd chromedriver "the browser test"; then
  start_server
  # LIFEBOAT_SCREENSHOTS=docs refreshes the README's screenshots.
  shots=${LIFEBOAT_SCREENSHOTS:-$(mktemp -d)}
  "$python" scripts/check_browser.py "$base" "$shots"
  stop_server
fi

if need honcho "the Procfile check"; then
  # Run the Procfile's web command as Heroku would, from a directory laid out
  # as the Rust buildpack leaves the slug (target/release/lifeboat).
  slug=$(mktemp -d)
  cp Procfile "$slug/"
  mkdir -p "$slug/target/release"
  ln -s "$PWD/$bin" "$slug/target/release/lifeboat"
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$slug" && exec env PORT="$port" "$python" -m honcho start web) >"$slug/honcho.log" 2>&1 &
  server_pid=$!
  ok=""
  for _ in $(seq 1 200); do # bounded: at most about 10 s
    if curl -fsS "http://127.0.0.1:$port/" -o "$slug/index.html" 2>/dev/null; then ok=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  stop_server
  if [ -z "$ok" ] || ! grep -q '<form method="post" action="/predict' "$slug/index.html"; then
    echo "error: the Procfile's web command did not serve the form on \$PORT=$port:" >&2
    cat "$slug/honcho.log" >&2
    exit 1
  fi
  echo "ok   Procfile: honcho start web served the form on PORT=$port"
fi
echo "== all tests passed"
