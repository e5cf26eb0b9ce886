#!/bin/sh
# Registers the TypeScript (tslab) kernel for this project only: .jupyter/kernels/tslab/kernel.json, found
# through JUPYTER_PATH=<project>/.jupyter (set by notebook.sh and notebooks-test.sh). Nothing global is touched,
# and `tslab install` is not used because it needs a Python with jupyter and writes a bare `tslab` (not on PATH).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
chmod +x "$root/scripts/tslab-kernel.sh"
mkdir -p "$root/.jupyter/kernels/tslab"
printf '{"argv":["%s/scripts/tslab-kernel.sh","{connection_file}"],"display_name":"TypeScript","language":"typescript"}\n' "$root" \
  > "$root/.jupyter/kernels/tslab/kernel.json"
echo "tslab kernel registered in $root/.jupyter/kernels/tslab (use with JUPYTER_PATH=$root/.jupyter)"
