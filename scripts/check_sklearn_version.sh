#!/usr/bin/env bash
# Checks parity against one scikit-learn release line: makes a venv with it,
# regenerates the fixtures there and runs the parity test on them.
#
#   scripts/check_sklearn_version.sh "scikit-learn==1.3.2 numpy==1.26.4 pandas==2.1.4 scipy==1.11.4 joblib==1.3.2"
#   scripts/check_sklearn_version.sh "scikit-learn"          # the newest from pip
#
# Needs python3 with venv and network access to PyPI; the committed fixtures
# are not touched.
set -euo pipefail
spec=${1:?usage: check_sklearn_version.sh "PIP REQUIREMENTS"}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
# shellcheck disable=SC2086
"$work/venv/bin/pip" install --quiet $spec pandas joblib
"$work/venv/bin/python" "$root/scripts/make_sklearn_fixtures.py" "$work/fixtures"
cd "$root"
LIFEBOAT_SKLEARN_FIXTURES="$work/fixtures" cargo test --test sklearn_parity every_fixture_matches_scikit_learn -- --nocapture
