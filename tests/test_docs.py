"""The documentation: the generated reference covers the registry, and the site builds.

The generator (``docs/_ext/llmphys_docs.py``) is called directly for the fast checks; the full
``sphinx-build -W --keep-going`` runs in a subprocess under the ``docs`` marker (it executes
every notebook and code cell; ``pytest -m "not docs"`` skips it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import llmphys as F

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmphys_docs", DOCS / "_ext" / "llmphys_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages(gen: ModuleType) -> dict[str, str]:
    return gen.formula_pages()


def _sections(text: str) -> list[str]:
    return re.findall(r"^\(formula-(\w+)\)=\n## `\1`$", text, re.MULTILINE)


def test_reference_lists_every_registered_formula(pages: dict[str, str]) -> None:
    pages = dict(pages)
    index = pages.pop("reference/formulas/index.md")
    listed = re.findall(r"\{ref\}`(\w+) <formula-\1>`", index)
    assert sorted(listed) == sorted(F.registry)
    documented = [name for text in pages.values() for name in _sections(text)]
    assert sorted(documented) == sorted(F.registry)  # each exactly once


def test_each_topic_page_is_in_the_reference_toctree(pages: dict[str, str]) -> None:
    index = pages["reference/formulas/index.md"]
    toctree = re.search(r"```\{toctree\}\n(.*?)```", index, re.DOTALL)
    assert toctree is not None
    entries = {line for line in toctree.group(1).splitlines() if line and line[0] != ":"}
    assert entries == {Path(p).stem for p in pages if not p.endswith("index.md")}


def test_formula_section_has_every_part(gen: ModuleType) -> None:
    text = "\n".join(gen.formula_section(F.total_vram))
    for heading in (
        "**Definition**",
        "**Inputs**",
        "**Rationale**",
        "**Source**",
        "**Worked example**",
    ):
        assert heading in text
    for name in F.total_vram.input_names:
        assert f"`{name}`" in text
    assert F.total_vram.to_latex() in text
    assert F.total_vram.to_latex(F.total_vram.expanded) in text
    assert F.total_vram.derive(**gen.example_values(F.total_vram)[0]).latex() in text


def test_worked_example_says_where_values_come_from(gen: ModuleType) -> None:
    values, origin = gen.example_values(F.kv_cache_bytes)
    assert set(values) == set(origin) == set(F.kv_cache_bytes.input_names)
    text = "\n".join(gen.example_section(F.kv_cache_bytes))
    for where in set(origin.values()):
        assert where in text


def test_glossary_page_lists_every_symbol(gen: ModuleType) -> None:
    text = gen.glossary_page()
    for name in F.glossary:
        assert f"`{name}`" in text or f"{{ref}}`{name} <formula-{name}>`" in text, name


def test_docstring_prose_cannot_inject_markup(gen: ModuleType) -> None:
    assert gen.md_text("a * b [c](d) $x$ {role}`y` <b> 2*x*y") == (
        r"a \* b \[c\]\(d\) \$x\$ \{role\}`y` \<b\> 2\*x\*y"
    )
    assert gen.md_text("the *total* count") == "the *total* count"  # reST emphasis kept
    assert gen.md_text("the ``layers * hidden`` term") == "the `layers * hidden` term"
    assert gen.cell("`a|b` \\| c") == r"`a\|b` \| c"


def test_cli_reference_has_every_command(gen: ModuleType) -> None:
    parsers = gen.cli_parsers()
    text = gen.cli_page()
    for command, _ in parsers:
        assert f"## `{command}`" in text


def test_notebooks_are_linked_and_listed(gen: ModuleType, tmp_path: Path) -> None:
    source, docs = tmp_path / "notebooks", tmp_path / "docs"
    docs.mkdir()
    assert gen.notebooks(source) == []
    assert not gen.link_notebooks(docs, source)
    assert "No notebooks yet." in gen.notebooks_page([])
    source.mkdir()
    (source / "01_b.ipynb").write_text("{}")
    (source / "00_a.ipynb").write_text("{}")
    found = gen.notebooks(source)
    assert [p.name for p in found] == ["00_a.ipynb", "01_b.ipynb"]
    assert "\nnotebooks/00_a\nnotebooks/01_b\n" in gen.notebooks_page(found)
    assert gen.link_notebooks(docs, source)
    link = docs / "notebooks"
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "notebooks")
    assert (link / "00_a.ipynb").read_text() == "{}"
    assert gen.link_notebooks(docs, source)  # idempotent
    for path in list(source.iterdir()):
        path.unlink()
    assert not gen.link_notebooks(docs, source)
    assert not link.is_symlink() and not link.exists()
    assert source.is_dir()  # the notebooks folder itself is never touched


def test_notebook_copies_of_an_earlier_version_make_way_for_the_link(
    gen: ModuleType, tmp_path: Path
) -> None:
    source, docs = tmp_path / "notebooks", tmp_path / "docs"
    source.mkdir()
    (source / "00_a.ipynb").write_text("{}")
    old = docs / "notebooks"
    old.mkdir(parents=True)
    (old / "00_a.ipynb").write_text("{}")
    (old / "index.md").write_text(gen.notebooks_page([]))
    assert gen.link_notebooks(docs, source)
    assert old.is_symlink()
    old.unlink()
    old.mkdir()
    (old / "mine.txt").write_text("not generated")
    with pytest.raises(FileExistsError, match="is a real file or folder"):
        gen.link_notebooks(docs, source)


def test_write_pages_only_rewrites_changes_and_removes_stale(
    gen: ModuleType, tmp_path: Path
) -> None:
    first = {"reference/glossary.md": b"a", "reference/formulas/x.md": b"x"}
    assert len(gen.write_pages(tmp_path, first)) == 2
    assert gen.write_pages(tmp_path, first) == []
    gen.write_pages(tmp_path, {"reference/glossary.md": b"b"})
    assert (tmp_path / "reference/glossary.md").read_bytes() == b"b"
    assert not (tmp_path / "reference/formulas").exists()


@pytest.mark.docs
def test_sphinx_build_passes(tmp_path: Path) -> None:
    """The documented build command, warnings as errors, every cell executed."""
    out = tmp_path / "html"
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        str(DOCS),
        str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    # no page shows a traceback (a refused input prints its type and message) or a path of
    # the machine that built it
    machine = [str(ROOT), str(Path.home())]
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "Traceback (most recent call last)" not in text, page
        assert 'class="output traceback' not in text or "site-packages" not in text, page
        for path in machine:
            assert path not in text, (page, path)
    # the API reference (a page per module) documents what every notebook uses: explore()
    # and the plots
    api = "".join(p.read_text() for p in (out / "reference" / "api").glob("*.html"))
    for documented in ("llmphys.widgets.explore", "llmphys.plots.roofline",
                       "llmphys.plots.throughput_frontier", "llmphys.frontier",
                       "llmphys.disaggregate", "llmphys.search"):  # fmt: skip
        assert f'id="{documented}"' in api, documented
    # a notebook page shows its Explore panel as a still (never a widget without a kernel)
    tour = (out / "notebooks" / "00_start_here.html").read_text()
    assert "llmphys-panel-still" in tour and "widget-view+json" not in tour
    index = (out / "reference" / "formulas" / "index.html").read_text()
    for name in F.registry:
        assert f'href="{_topic_of(name)}.html#formula-{name.replace("_", "-")}"' in index, name


def _topic_of(name: str) -> str:
    return F.registry[name].module.rsplit(".", 1)[-1].replace("_", "-")


def test_every_refusal_on_the_refusals_page_is_an_llmphys_error():
    """docs/guides/refusals.md promises an llmphys error for each bad input it shows: each
    cell tagged raises-exception must raise one (never a foreign exception, never a number)."""
    import re

    import llmphys as F

    text = (Path(__file__).resolve().parents[1] / "docs/guides/refusals.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(cells[0], namespace)  # the imports
    refusals = [c for c in cells[1:] if c.startswith(":tags: [raises-exception]\n")]
    assert len(refusals) == len(cells) - 1 >= 15
    for cell in refusals:
        code = cell.removeprefix(":tags: [raises-exception]\n")
        with pytest.raises(F.LlmphysError):
            exec(code, namespace)


def test_the_notebooks_page_is_a_gallery_with_a_picture_per_lesson(gen: ModuleType) -> None:
    # issue 22, item 11: one picture per notebook (docs/gallery.py makes them, committed)
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    page = gen.notebooks_page(gen.notebooks())
    assert page.count('class="llmphys-gallery-card"') == len(lessons) >= 10
    for path in lessons:
        picture = DOCS / "_static" / "gallery" / f"{path.stem}.png"
        assert picture.is_file() and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path.name
        assert f'src="_static/gallery/{path.stem}.png"' in page
    assert "sizing_app" not in page.split("## The sizing app")[0]  # the app is not a lesson
