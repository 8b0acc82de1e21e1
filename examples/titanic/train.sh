#!/usr/bin/env bash
# Trains lifeboat's built-in Titanic models from Kaggle's Titanic train.csv.
#
#   examples/titanic/train.sh [path/to/train.csv]
#
# Get train.csv from https://www.kaggle.com/competitions/titanic/data (free
# Kaggle account). The default path is the project's shared data folder.
#
# SOURCE_DATE_EPOCH fixes the timestamp written into the model files, so the
# same data and lifeboat version give byte-identical files (a test checks the
# committed files this way). Rebuild lifeboat afterwards: the files are
# embedded in the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${1:-../shared/data/titanic/train.csv}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1764028800}   # 2025-11-25T00:00:00Z
lifeboat="cargo run --quiet --release --"

# The default model: every learner cross-validated, the best kept.
$lifeboat train --data "$data" --target Survived --schema examples/titanic/titanic.toml \
  --learner auto --seed 42 --out models/titanic.lifeboat
# Single-learner siblings, for benchmarks and comparisons (builtin:titanic-logistic, ...).
$lifeboat train --data "$data" --target Survived --schema examples/titanic/titanic.toml \
  --learner logistic --seed 42 --out models/titanic-logistic.lifeboat
$lifeboat train --data "$data" --target Survived --schema examples/titanic/titanic.toml \
  --learner gbdt --seed 42 --out models/titanic-gbdt.lifeboat
