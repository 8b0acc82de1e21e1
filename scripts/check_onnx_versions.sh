#!/usr/bin/env bash
# Checks ONNX parity against other releases of the exporters and runtime:
# makes a venv with them, regenerates the ONNX fixtures there and runs the
# parity tests on them (the committed fixtures are not touched).
#
#   scripts/check_onnx_versions.sh "skl2onnx onnx onnxruntime"      # the newest from pip
#   scripts/check_onnx_versions.sh "skl2onnx==1.20.0 onnx==1.23.2 onnxruntime==1.32.0"
#
# Needs python3 with venv and network access to PyPI.
set -euo pipefail
spec=${1:?usage: check_onnx_versions.sh "PIP REQUIREMENTS"}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# shellcheck disable=SC2086
"$work/venv/bin/pip" install --quiet scikit-learn pandas $spec
"$work/venv/bin/python" "$root/scripts/make_onnx_fixtures.py" "$work/fixtures"
cd "$root"
LIFEBOAT_ONNX_FIXTURES="$work/fixtures" cargo test --features onnx --test onnx_parity -- \
  every_fixture_matches_onnxruntime an_unsupported_operator_is_named_at_load --nocapture
