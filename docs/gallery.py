"""Make the notebook gallery's pictures: run each teaching notebook and keep its first
figure as ``docs/_static/gallery/<notebook>.png`` (committed; the notebooks page shows one
per notebook).

Run it after changing a notebook's first figure::

    .venv/bin/python docs/gallery.py

A notebook without a figure gets a picture of its first registry formula, drawn by
matplotlib's mathtext from the formula's LaTeX (or of its title, when it uses none).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "docs" / "_static" / "gallery"


def first_figure(path: Path) -> bytes | None:
    """The first PNG the notebook draws when run top to bottom, or None."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                return base64.b64decode(data["image/png"])
    return None


def formula_picture(path: Path, target: Path) -> None:
    """A picture of the notebook's first registry formula (its LaTeX, by mathtext), or of its
    title."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import llmphys

    text = path.read_text()
    names = [n for n in re.findall(r"F\.([a-z_]+)\b", text) if n in llmphys.registry]
    if names:
        formula = llmphys.registry[names[0]]
        latex = f"${formula.entry.latex} = {formula.to_latex()}$"
    else:  # a notebook of the user's own formulas: its title
        latex = re.search(r'"# ([^"\\]+)', text).group(1)
    fig = plt.figure(figsize=(6, 1.6), dpi=100)
    fig.text(0.5, 0.5, latex, ha="center", va="center", fontsize=16)
    fig.savefig(target)
    plt.close(fig)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    lessons = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in lessons:
        target = OUT / f"{path.stem}.png"
        png = first_figure(path)
        if png is None:
            formula_picture(path, target)
            print(f"{path.name}: no figure; its first formula drawn")
        else:
            target.write_bytes(png)
            print(f"{path.name}: first figure, {len(png):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
