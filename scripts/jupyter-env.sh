# Sourced by notebook.sh and notebooks-test.sh: finds Jupyter, registers the project's tslab kernel, sets the env.
# Debian's Jupyter lives in /usr/bin; a pyenv or venv python3 earlier on PATH usually has no jupyter_client.
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# JUPYTER=/path/to/jupyter picks another install.
find_jupyter() {
  if [ -n "${JUPYTER:-}" ]; then if [ -x "$JUPYTER" ]; then echo "$JUPYTER"; fi; return 0; fi
  if [ -x /usr/bin/jupyter ]; then echo /usr/bin/jupyter; return; fi
  command -v jupyter 2>/dev/null || true
}

jupyter_missing() {
  cat >&2 <<'MSG'
Jupyter was not found. Install it with one of:
  sudo apt-get install jupyter-notebook python3-nbconvert python3-ipykernel     # Debian/Ubuntu
  python3 -m pip install notebook nbconvert ipykernel                            # any Python 3
Then run this command again.
MSG
  exit 1
}

JUPYTER=$(find_jupyter)
[ -n "$JUPYTER" ] || jupyter_missing
if [ ! -x node_modules/.bin/tslab ]; then
  echo "node_modules/.bin/tslab is missing: run npm install first." >&2
  exit 1
fi
sh scripts/setup-kernel.sh >/dev/null
export JUPYTER_PATH="$root/.jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export PYDEVD_DISABLE_FILE_VALIDATION=1 # silences Debian pydevd's "frozen modules" warning on every command
