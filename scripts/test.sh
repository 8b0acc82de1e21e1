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
echo "== all tests passed"
