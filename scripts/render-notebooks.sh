#!/bin/sh
# npm run notebooks:render [-- NAME ...]: executes notebooks at full size against the committed results in
# results/ and writes the executed copies, with their outputs and figures, to notebooks/executed/NAME.ipynb, so
# that a reader on GitHub sees the figures. Default: every notebook in RENDERED below.
#
# Only notebooks whose full size loads committed results are rendered; the others would train for hours (or need
# CIFAR-10) before showing anything:
#   02-mary-densenet-cifar10        no committed results/mary-densenet40-cifar10 (195 epochs of DenseNet-40, CIFAR-10)
#   04-stochastic-quantization      no committed results/sq-vgg9-cifar10 (5 methods x 200 epochs of VGG-9, CIFAR-10)
# Move a notebook into RENDERED once its experiment's results are committed.
#
# A notebook that starts training (its configuration no longer matches the committed run) is stopped by the
# timeout or refused afterwards ("trained now" in its output), and notebooks/executed/ keeps its previous copy.
# Runs under `nice -n 15`: rendering shares the machine with training runs. The timing tables of
# 05-memory-and-speed are measured on the machine that renders, under whatever load it has.
set -eu
. "$(dirname "$0")/jupyter-env.sh"
RENDERED="00-quickstart 01-mary-bayesian-lenet-mnist 03-quantizer-zoo 05-memory-and-speed 06-robustness-and-uncertainty"
export QNNLAB_SIZE=full
timeout=${QNNLAB_RENDER_TIMEOUT:-3600}
py=$(head -n1 "$JUPYTER" | sed -n 's/^#! *//p' | cut -d' ' -f1)
[ -x "${py:-}" ] || py=/usr/bin/python3
[ $# -gt 0 ] || set -- $RENDERED
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p notebooks/executed

for arg in "$@"; do
  name=$(basename "$arg" .ipynb)
  case " $RENDERED " in
    *" $name "*) ;;
    *) echo "$name is not rendered: its full size trains instead of loading committed results (see $0)." >&2; exit 1 ;;
  esac
  start=$(date +%s)
  echo "==> notebooks/$name.ipynb (full size, from results/)"
  if ! timeout "$timeout" nice -n 15 "$py" scripts/run-notebook.py "notebooks/$name.ipynb" "$tmp" 900; then
    echo "FAILED: $name after $(( $(date +%s) - start )) s; notebooks/executed/$name.ipynb is unchanged" >&2
    exit 1
  fi
  # Keep the copy stable between renders and machines: drop nbconvert's per-cell timestamps, write paths inside
  # the project relative to it. Refuse a notebook that trained.
  "$py" - "$tmp/$name.ipynb" "$(pwd)/" <<'PY'
import json, sys
path, root = sys.argv[1], sys.argv[2]
nb = json.load(open(path, encoding="utf-8"))
text = []
for cell in nb["cells"]:
    cell.get("metadata", {}).pop("execution", None)
    for out in cell.get("outputs", []):
        if "text" in out:
            t = out["text"]
            out["text"] = [s.replace(root, "") for s in t] if isinstance(t, list) else t.replace(root, "")
            text.append("".join(out["text"]))
if any("trained now" in t for t in text):
    sys.exit(path + ": the notebook trained instead of loading committed results; not rendered")
with open(path, "w", encoding="utf-8") as f:
    json.dump(nb, f, ensure_ascii=False, indent=1, sort_keys=True)
    f.write("\n")
PY
  mv "$tmp/$name.ipynb" "notebooks/executed/$name.ipynb"
  echo "    rendered in $(( $(date +%s) - start )) s -> notebooks/executed/$name.ipynb ($(du -k "notebooks/executed/$name.ipynb" | cut -f1) KiB)"
done
