#!/bin/sh
# npm run notebooks:test: executes every notebooks/*.ipynb headless at CI size (QNNLAB_SIZE=ci) into
# build/notebooks/, stopping at the first failing notebook. tslab reports compile errors and exceptions only
# in the failing cell's stderr stream, so on failure that stream is printed from the partly executed notebook.
# Optional arguments: notebook paths to run instead of all of them.
set -eu
. "$(dirname "$0")/jupyter-env.sh"
export QNNLAB_SIZE="${QNNLAB_SIZE:-ci}"
out=build/notebooks
mkdir -p "$out"
[ $# -gt 0 ] || set -- notebooks/*.ipynb
if [ ! -e "$1" ]; then
  echo "No notebooks found in notebooks/." >&2
  exit 1
fi
# nbconvert needs Debian's python (jupyter's shebang); the error report below uses the same interpreter.
py=$(head -n1 "$JUPYTER" | sed -n 's/^#! *//p' | cut -d' ' -f1)
[ -x "$py" ] || py=/usr/bin/python3

total_start=$(date +%s)
for nb in "$@"; do
  name=$(basename "$nb")
  start=$(date +%s)
  echo "==> $nb (QNNLAB_SIZE=$QNNLAB_SIZE)"
  if ! "$JUPYTER" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 \
      --output-dir "$out" --output "$name" "$nb" >"$out/$name.log" 2>&1; then
    echo "FAILED: $nb after $(( $(date +%s) - start )) s" >&2
    tail -n 25 "$out/$name.log" >&2
    # nbconvert does not write the partial notebook on error; --allow-errors would, but tslab then skips
    # the following cells, so the log above (which quotes the failing cell) is the reliable source.
    echo "(full log: $out/$name.log)" >&2
    exit 1
  fi
  echo "    ok in $(( $(date +%s) - start )) s -> $out/$name"
done
echo "All $# notebook(s) passed in $(( $(date +%s) - total_start )) s."
