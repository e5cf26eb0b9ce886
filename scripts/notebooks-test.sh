#!/bin/sh
# npm run notebooks:test [-- notebooks/x.ipynb ...]: executes every notebooks/*.ipynb (or the ones named)
# headless at CI size (QNNLAB_SIZE=ci) into build/notebooks/, and stops at the first failing notebook.
#
# Execution is nbconvert's ExecutePreprocessor (as `jupyter nbconvert --to notebook --execute
# --ExecutePreprocessor.timeout=1800 --output-dir build/notebooks`) driven by run-notebook.py, because plain
# nbconvert reports a tslab failure as just "<Error>:": tslab puts the compile error or exception message only
# in the failing cell's stderr. run-notebook.py prints that cell and its stderr, and keeps the partial notebook.
set -eu
. "$(dirname "$0")/jupyter-env.sh"
export QNNLAB_SIZE="${QNNLAB_SIZE:-ci}"
out=build/notebooks
timeout=${QNNLAB_NOTEBOOK_TIMEOUT:-1800}
mkdir -p "$out"
[ $# -gt 0 ] || set -- notebooks/*.ipynb
if [ ! -e "$1" ]; then
  echo "No notebooks found in notebooks/." >&2
  exit 1
fi
# The Python that runs jupyter (from its #! line) has nbconvert; the python3 first on PATH may not.
py=$(head -n1 "$JUPYTER" | sed -n 's/^#! *//p' | cut -d' ' -f1)
[ -x "${py:-}" ] || py=/usr/bin/python3

all_start=$(date +%s)
for nb in "$@"; do
  start=$(date +%s)
  echo "==> $nb (QNNLAB_SIZE=$QNNLAB_SIZE)"
  if ! "$py" scripts/run-notebook.py "$nb" "$out" "$timeout"; then
    echo "FAILED: $nb after $(( $(date +%s) - start )) s" >&2
    exit 1
  fi
  echo "    ok in $(( $(date +%s) - start )) s -> $out/$(basename "$nb")"
done
echo "All $# notebook(s) passed in $(( $(date +%s) - all_start )) s."
