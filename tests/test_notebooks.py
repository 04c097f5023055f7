"""The notebooks of ``notebooks/``: committed clean, in the teaching rhythm, and runnable.

1. Every notebook is committed without outputs, execution counts or saved widget state: what a
   notebook shows is made by running it, never stored (stored outputs go stale silently).
2. Every numbered teaching notebook follows the rhythm of the series: a title, the question,
   takeaways backed by ``assert`` cells, an explore widget as the last code cell before the
   problems, and problems whose answers are collapsed code cells that assert.
3. Every notebook runs top to bottom in a fresh kernel from its own folder (nbclient, as
   ``jupyter nbconvert --execute`` or the docs build would); any error fails, and so does a
   Python warning printed in a notebook.

The kernel is the interpreter running the tests: a ``python3`` kernel spec pointing at
``sys.executable`` is written to a temporary ``JUPYTER_PATH``, which takes precedence over any
user-level ``python3`` spec that might point at an interpreter without llmphys.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
TEACHING = [p for p in ALL if re.match(r"\d\d_", p.name)]
CELL_TIMEOUT = 120  # seconds per cell; a whole notebook takes a few seconds

#: the H2 sections every teaching notebook has (matched case-insensitively, as words)
SECTIONS = ("question", "takeaway", "explore", "problems")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def headings(nb: nbformat.NotebookNode) -> list[tuple[int, int, str]]:
    """``(cell index, level, text)`` of every Markdown heading, in order."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^(#{1,6})\s+(.*\S)", line)
            if m:
                found.append((i, len(m.group(1)), m.group(2)))
    return found


def code_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def test_the_teaching_sequence_is_complete():
    numbers = [int(p.name[:2]) for p in TEACHING]
    assert len(numbers) >= 8 and numbers == list(range(len(numbers))), [p.name for p in TEACHING]


# ----------------------------------------------------------------------------- committed clean
@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_committed_without_outputs(path):
    nb = read(path)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them "
        "before committing (Jupyter: Edit > Clear Outputs of All Cells, then save)"
    )
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state in the metadata"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


# ----------------------------------------------------------------------------- teaching rhythm
@pytest.mark.parametrize("path", TEACHING, ids=[p.name for p in TEACHING])
def test_teaching_rhythm(path):
    nb = read(path)
    found = headings(nb)
    assert found and found[0][:2] == (0, 1), f"{path.name}: the first cell is the # title"
    assert [level for _, level, _ in found].count(1) == 1, f"{path.name}: one # title only"
    for (_, before, _), (_, level, text) in itertools.pairwise(found):
        assert level <= before + 1, f"{path.name}: heading {text!r} skips a level"
    sections = {text.lower(): i for i, level, text in found if level == 2}
    for word in SECTIONS:
        assert any(re.search(rf"\b{word}", s) for s in sections), (
            f"{path.name}: no '## ...{word}...' section"
        )
    codes = code_cells(nb)
    assert any(re.search(r"^\s*assert\b", src, re.MULTILINE) for _, src in codes), (
        f"{path.name}: no takeaway is asserted"
    )
    assert not any("sys.path" in src for _, src in codes), f"{path.name}: imports by path"


@pytest.mark.parametrize("path", TEACHING, ids=[p.name for p in TEACHING])
def test_explore_then_problems_with_asserted_answers(path):
    nb = read(path)
    problems_at = next(i for i, level, text in headings(nb) if level == 2 and text == "Problems")
    before = [src for i, src in code_cells(nb) if i < problems_at]
    assert "explore(" in before[-1], (
        f"{path.name}: the last code cell before the problems is not an explore() widget"
    )
    posed = [
        int(m.group(1))
        for i, _, text in headings(nb)
        if i >= problems_at and (m := re.fullmatch(r"Problem (\d+)", text))
    ]
    assert len(posed) >= 2 and posed == list(range(1, len(posed) + 1)), posed
    answers = {}
    for i, src in code_cells(nb):
        m = re.match(r"# Answer to problem (\d+)\n", src)
        if m:
            answers[int(m.group(1))] = (i, src)
    assert sorted(answers) == posed, f"{path.name}: answers {sorted(answers)} for {posed}"
    for n, (i, src) in answers.items():
        cell = nb.cells[i]
        assert re.search(r"^\s*assert\b", src, re.MULTILINE), f"answer {n} asserts nothing"
        assert "hide-cell" in cell.metadata.get("tags", []), f"answer {n} is not collapsed"
        assert "<summary>Answer</summary>" in nb.cells[i - 1].source, (
            f"{path.name}: answer {n} has no collapsed explanation before it"
        )


# ----------------------------------------------------------------------------- execution
@pytest.fixture(scope="session")
def kernel_path(tmp_path_factory):
    """A ``python3`` kernel spec for this interpreter, first on ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (llmphys tests)",
                "language": "python",
            }
        )
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        yield root


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_runs_top_to_bottom(path, kernel_path):
    nb = read(path)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    warned = [
        (i, out.text)
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "stream" and out.name == "stderr" and "Warning:" in out.text
    ]
    assert not warned, f"{path.name} printed warnings: {warned}"
    # after running every cell, no answer is visible until opened: an answer cell prints
    # nothing itself, and shows one folded <details> (in JupyterLab, Voila and the docs)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.startswith("# Answer to problem"):
            continue
        shown = [out for out in cell.outputs if out.output_type != "stream"]
        printed = [out.text for out in cell.outputs if out.output_type == "stream"]
        assert not printed, f"{path.name} cell {i}: an answer printed in the open: {printed}"
        assert len(shown) == 1 and shown[0]["data"]["text/html"].startswith(
            '<details class="llmphys-answer"><summary>'
        ), f"{path.name} cell {i}: the answer is not folded"
