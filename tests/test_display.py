"""Notebook displays: a formula shows its definition and inputs; tables render both ways."""

from __future__ import annotations

import doctest

import pytest

import llmphys as F
import llmphys.display
from llmphys.display import Table


@pytest.mark.parametrize("name", sorted(F.registry))
def test_every_formula_renders_for_a_notebook(name):
    f = F.registry[name]
    md = f._repr_markdown_()
    assert md.startswith(f"**`{name}`**: {f.meaning}")
    assert f"$${f.entry.latex} = {f.to_latex()}" in md
    for sym in f.inputs:
        assert f"| `{sym.name}` |" in md


def test_table_markdown_and_text():
    t = Table(["a", "bb"], [[1, "x"], ["long", 2.5]])
    assert t._repr_markdown_() == "| a | bb |\n|---|---|\n| 1 | x |\n| long | 2.5 |"
    assert str(t) == "a     bb\n----  ---\n1     x\nlong  2.5"
    with pytest.raises(ValueError, match="a row has 1 cells, the header 2"):
        Table(["a", "b"], [[1]])


def test_module_doctest():
    assert doctest.testmod(llmphys.display).failed == 0


def test_an_answer_is_folded_and_its_lines_scroll_rather_than_wrap_mid_word():
    # issue 22, item 5: JupyterLab broke a plain-text derivation anywhere in a word
    from llmphys.display import Answer

    shown = Answer("t_TTFT = 8.3 s + 0.08 s = 8.38 s\n")._repr_html_()
    assert shown.startswith('<details class="llmphys-answer"><summary>Show the answer</summary>')
    assert 'style="white-space:pre;overflow-x:auto;word-break:normal"' in shown
    assert "t_TTFT = 8.3 s + 0.08 s = 8.38 s</pre></details>" in shown
