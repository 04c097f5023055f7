"""A still picture of an Explore panel, for pages that cannot run it.

A panel is a live ipywidgets view: JupyterLab and Voila render it from the kernel.  A static
page (the docs site, a notebook viewer) has no kernel, and a widget rendered there from saved
state is a control that does nothing.  The panel therefore also offers ``text/html``: its
formula, each input at its current value, and the answer, with a line saying how to run it.
Front ends that render widgets prefer the live view; the docs build is told to take the still
(``nb_mime_priority_overrides`` in ``docs/conf.py``).

Math is written as Sphinx writes it (``<span class="math">\\(...\\)</span>``), which the docs'
MathJax typesets, and which JupyterLab typesets in HTML outputs too.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.widgets import Explorer

__all__ = ["snapshot_html"]

_INLINE = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
RUN_IT = (
    "A still of the live panel, at its starting values. To move its sliders and solve for "
    "another input, run this notebook in JupyterLab (<code>jupyter lab notebooks/</code>)."
)


def _math(tex: str) -> str:
    tex = html.escape(tex, quote=False)
    return f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'


def math_html(text: str) -> str:
    """``text`` (HTML with ``$...$`` math, as the panel's HTMLMath widgets hold) with each
    piece of math in Sphinx's math markup."""
    return _INLINE.sub(lambda m: _math(m.group(1) or m.group(2)), text)


def _value(widget: Any, name: str, glossary: Any) -> str:
    value = widget.value
    if isinstance(value, str):
        return html.escape(value)
    unit = glossary[name].unit_text if name in glossary else ""
    number = f"{value:,.6g}" if isinstance(value, float) else f"{value:,}"
    return html.escape(f"{number} {unit}".strip())


def snapshot_html(panel: Explorer) -> str:
    """The panel as a still: formula, inputs at their values, the answer, how to run it."""
    glossary = panel.formula.registry.glossary  # a formula of the user's has its own symbols
    rows = "".join(
        f"<tr><td>{_math(glossary[name].latex)}</td><td>{html.escape(name)}</td>"
        f"<td>{_value(widget, name, glossary)}</td></tr>"
        for name, widget in panel.controls.items()
    )
    solving = ""
    if panel.solve_for.value:
        solving = (
            f"<p>solving for <code>{html.escape(panel.solve_for.value)}</code>, target "
            f"<code>{html.escape(panel.target.value)}</code> ({html.escape(panel.bound.value)})"
            "</p>"
        )
    parts = [
        f"<div>{math_html(panel.header.value)}</div>",
        f'<table class="llmphys-still"><thead><tr><th>symbol</th><th>input</th>'
        f"<th>value</th></tr></thead><tbody>{rows}</tbody></table>",
        solving,
        f"<div>{math_html(panel.output.value)}</div>",
        f"<p>{html.escape(panel.error)}</p>" if panel.error else "",
        f"<p><em>{RUN_IT}</em></p>",
    ]
    return '<div class="llmphys-panel-still">' + "".join(parts) + "</div>"
