"""Executes one notebook headless and writes the executed copy, like
`jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 --output-dir OUT`,
but on failure it also writes the partly executed notebook and prints the failing cell's stderr:
tslab puts compile errors and exception messages only there, nbconvert's own message says just "<Error>:".

usage: run-notebook.py NOTEBOOK OUT_DIR [TIMEOUT_S]   (exit 1 on the first failing cell)
"""
import os
import sys

import nbformat
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor


def stderr_of(cell):
    """The cell's stderr stream (and error outputs, for other kernels), as printed text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


class TrackingPreprocessor(ExecutePreprocessor):
    """Remembers which cell runs: tslab sends no error output, so the failing cell cannot be found afterwards."""

    current = None

    def preprocess_cell(self, cell, resources, index):
        self.current = index
        return super().preprocess_cell(cell, resources, index)


def main():
    path, out_dir = sys.argv[1], sys.argv[2]
    timeout = int(sys.argv[3]) if len(sys.argv) > 3 else 1800
    nb = nbformat.read(path, as_version=4)
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, os.path.basename(path))
    # The kernel wrapper cd's to the project root itself; the path here only matters for other kernels.
    ep = TrackingPreprocessor(timeout=timeout)
    try:
        ep.preprocess(nb, {"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    except CellExecutionError:
        nbformat.write(nb, out_path)
        index = ep.current
        cell = nb.cells[index] if index is not None else None
        where = f"cell {index + 1} of {len(nb.cells)}" if cell is not None else "an unknown cell"
        print(f"\nFAILED: {path}, {where}", file=sys.stderr)
        if cell is not None:
            print("---- cell source ----\n" + "".join(cell.source) + "\n---- cell stderr ----\n" + stderr_of(cell), file=sys.stderr, end="")
        print(f"(partly executed notebook: {out_path})", file=sys.stderr)
        return 1
    nbformat.write(nb, out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
