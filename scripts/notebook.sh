#!/bin/sh
# npm run notebook: opens Jupyter on notebooks/ with the project's TypeScript kernel.
set -eu
. "$(dirname "$0")/jupyter-env.sh"
mkdir -p notebooks
set -- --notebook-dir=notebooks "$@"
# No display (SSH, container): do not try to open a browser, listen on loopback only; Jupyter prints the URL with its token.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" != Darwin ]; then
  set -- --no-browser --ip=127.0.0.1 "$@"
fi
# Containers often run as root, which Jupyter refuses without this flag.
[ "$(id -u)" != 0 ] || set -- --allow-root "$@"
exec "$JUPYTER" notebook "$@"
