#!/bin/sh
# The project's Jupyter kernel (registered by setup-kernel.sh).
# Jupyter starts a kernel in the notebook's folder, but tslab compiles with rootDir = cwd, so a notebook in
# notebooks/ could not import ../src/*. Start tslab in the project root instead: notebooks import './src/...'.
# tslab-preload.js fixes two tslab quirks (folder imports, files written by cells); see that file.
cd "$(dirname "$0")/.." && exec node -r ./scripts/tslab-preload.js ./node_modules/tslab/bin/tslab kernel --config-path "$1"
