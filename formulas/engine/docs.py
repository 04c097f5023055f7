"""A formula's documentation page, generated from its one definition.

The hand-written docstring holds what only a person can write (meaning, rationale, examples,
references).  The equation, the parameters with units and meanings, and the result's unit are
generated from the expression and the glossary, so they cannot drift from the code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["formula_doc", "formula_markdown", "rationale", "sections"]

_HEADER = re.compile(r"^(\S[^\n]*)\n-{3,}\s*$", re.MULTILINE)


def sections(doc: str) -> tuple[str, dict[str, str]]:
    """Split a numpydoc-style docstring into its lead text and ``{header: body}``."""
    matches = list(_HEADER.finditer(doc))
    if not matches:
        return doc.strip(), {}
    lead = doc[: matches[0].start()].strip()
    found: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        found[match.group(1).strip()] = doc[match.end() : end].strip("\n").rstrip()
    return lead, found


def rationale(formula: Formula) -> list[str]:
    """The rationale lines of a formula (its ``Notes`` section), one per bullet or sentence."""
    _, found = sections(formula.raw_doc)
    notes = found.get("Notes", "")
    lines: list[str] = []
    for block in re.split(r"\n(?=\s*[-*] )|\n\s*\n", notes):
        text = " ".join(part.strip() for part in block.strip().lstrip("-* ").splitlines())
        if text:
            lines.append(text)
    return lines


def formula_doc(formula: Formula) -> str:
    """The full page: lead, equation, parameters, returns, then the hand-written sections."""
    lead, found = sections(formula.raw_doc)
    entry = formula.entry
    lines = [lead or formula.meaning, "", "Equation", "--------"]
    lines.append(f"{entry.text} = {formula.to_text()}")
    if formula.parts:
        lines.append(f"{' ' * len(entry.text)} = {formula.to_text(formula.expanded)}")
    lines += ["", "Parameters", "----------"]
    gloss = formula.registry.glossary
    for sym in formula.inputs:
        item = gloss[sym.name]
        unit = item.unit_text or "plain number"
        lines.append(f"{item.name} : {unit}")
        lines.append(f"    {item.text}: {item.meaning}.")
    parts = formula.overridable_parts()
    if parts:
        lines += ["", "Parts that may be given instead of their inputs", "-" * 47]
        for name, part in parts.items():
            lines.append(f"{name} : {part.unit:~P}")
            lines.append(f"    {part.entry.text}: {part.meaning}.")
    lines += [
        "",
        "Returns",
        "-------",
        f"{formula.name} : {formula.unit:~P}",
        f"    {entry.text}: {entry.meaning}.",
    ]
    for header, body in found.items():
        lines += ["", header, "-" * len(header), body]
    if formula.source:
        lines += ["", "Source", "------", formula.source]
    return "\n".join(lines) + "\n"


def formula_markdown(formula: Formula) -> str:
    """A formula for a notebook: its meaning, the definition and its expansion in LaTeX, and a
    table of its inputs (conventional symbol, keyword, meaning, unit) from the glossary."""
    gloss = formula.registry.glossary
    rhs, full = formula.to_latex(), formula.to_latex(formula.expanded)
    latex = f"{formula.entry.latex} = {rhs}" + ("" if full == rhs else f" = {full}")
    rows = [
        f"| ${gloss[s.name].latex}$ | `{s.name}` | {gloss[s.name].meaning} "
        f"| {gloss[s.name].unit_text} |"
        for s in formula.inputs
    ]
    head = ["| symbol | keyword | meaning | unit |", "|---|---|---|---|"]
    lines = [f"**`{formula.name}`**: {formula.meaning}", "", f"$${latex}$$", "", *head, *rows]
    return "\n".join(lines)
