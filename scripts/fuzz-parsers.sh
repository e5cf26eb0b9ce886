#!/usr/bin/env bash
# Long parser-fuzzing campaign (docs/fuzzing.md): test/fuzz-parsers.test.ts with many cases per format.
#   bash scripts/fuzz-parsers.sh            20000 cases per format, seed 17
#   bash scripts/fuzz-parsers.sh 5000 42    5000 cases per format, seed 42
set -euo pipefail
cd "$(dirname "$0")/.."
export QNNLAB_FUZZ_CASES="${1:-20000}"
export QNNLAB_FUZZ_SEED="${2:-17}"
exec node --import tsx --test --test-reporter=spec test/fuzz-parsers.test.ts
