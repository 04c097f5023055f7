"""Documentation generated from one definition: a formula's page, and the shared sections of
a family of functions.

The hand-written docstring holds what only a person can write (meaning, rationale, examples,
references).  The equation, the parameters with units and meanings, and the result's unit are
generated from the expression and the glossary, so they cannot drift from the code.

Functions that take the same arguments (the sizing questions, the plots) describe each shared
argument once, in a table their module keeps, and :func:`shared_sections` writes the
descriptions into each function's docstring at import: ``help()``, the API reference and
doctests read complete numpydoc sections, and no description is typed twice.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula

__all__ = ["formula_doc", "formula_markdown", "rationale", "sections", "shared_sections"]

_Documented = TypeVar("_Documented", bound=Callable[..., object])

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


# ----------------------------------------------------------------------------- shared sections
_PLACEHOLDER = re.compile(r"^([ \t]*)\{(\w+)\}[ \t]*$")
_UNDERLINE = re.compile(r"^[ \t]*-{3,}[ \t]*$")


def shared_sections(
    params: Mapping[str, str], /, **fragments: str
) -> Callable[[_Documented], _Documented]:
    """A decorator that completes a function's numpydoc docstring from shared descriptions.

    In the docstring, a line that is only ``{params}`` stands for every parameter of the
    signature the docstring does not describe itself: inside a Parameters section, the
    section is rewritten in signature order, each parameter described by the docstring's own
    entry or, failing that, by ``params``; alone, it is the whole section, all from
    ``params``.  A line that is only ``{name}`` elsewhere becomes ``fragments[name]`` (a
    whole section, say).  Each description is indented as its placeholder.

    Parameters
    ----------
    params
        Numpydoc entries by parameter name: the entry's head line, then its description on
        the lines below (``"model : str or Model\\n    A preset's name..."``).
    **fragments
        Text by placeholder name (indented as :func:`inspect.cleandoc` leaves it).

    Returns
    -------
    callable
        The decorator; it returns the function itself, its ``__doc__`` completed.

    Raises
    ------
    ValueError
        At import: a parameter no entry describes, an entry for a name the signature does
        not have, or a placeholder without text.

    Examples
    --------
    >>> @shared_sections({"x": "x : float\\n    A number."})
    ... def double(x: float) -> float:
    ...     \"""Twice ``x``.
    ...
    ...     {params}
    ...     \"""
    ...     return 2 * x
    >>> import inspect
    >>> print(inspect.getdoc(double))
    Twice ``x``.
    <BLANKLINE>
    Parameters
    ----------
    x : float
        A number.
    """

    def complete(func: _Documented) -> _Documented:
        if func.__doc__:  # None under python -OO
            lines = _with_parameters(func, func.__doc__.splitlines(), params)
            func.__doc__ = "\n".join(_with_fragments(func, lines, fragments))
        return func

    return complete


def _indented(lines: list[str], indent: str) -> list[str]:
    return [indent + line if line.strip() else "" for line in lines]


def _entry(text: str) -> list[str]:
    """A numpydoc entry's lines: its head, then its description indented under it (however
    the description was indented where it was written)."""
    head, _, description = text.strip("\n").partition("\n")
    return [head.strip(), *_indented(textwrap.dedent(description).split("\n"), "    ")]


def _is_header(lines: list[str], i: int) -> bool:
    return i + 1 < len(lines) and bool(lines[i].strip()) and bool(_UNDERLINE.match(lines[i + 1]))


def _ends_section(lines: list[str], i: int) -> bool:
    """True where the next section starts: its header, or a placeholder standing for it."""
    return _is_header(lines, i) or bool(_PLACEHOLDER.match(lines[i]))


def _with_parameters(
    func: Callable[..., object], lines: list[str], params: Mapping[str, str]
) -> list[str]:
    """``lines`` with the Parameters section that ``{params}`` stands in (or is) written out
    in signature order."""
    at = next((i for i, line in enumerate(lines) if line.strip() == "{params}"), None)
    if at is None:
        return lines
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    header = max((i for i in range(at) if _is_header(lines, i)), default=None)
    if header is not None and lines[header].strip() == "Parameters":
        start = header + 2
        end = next((i for i in range(at + 1, len(lines)) if _ends_section(lines, i)), len(lines))
        head: list[str] = []
    else:  # the placeholder is the whole section
        start, end = at, at + 1
        head = [f"{indent}Parameters", f"{indent}----------"]
    own: dict[str, list[str]] = {}
    entry: list[str] = []
    for line in lines[start:end]:
        if line.strip() == "{params}":
            entry = []
        elif line.strip() and len(line) - len(line.lstrip()) == len(indent):
            entry = [line]
            for name in line.split(" : ")[0].split(","):
                own[name.strip().lstrip("*")] = entry
        else:
            entry.append(line)
    signature = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
    where = func.__qualname__
    stale = sorted(set(own) - set(signature))
    if stale:
        raise ValueError(f"{where}: the docstring describes {', '.join(stale)}, not parameters")
    section = list(head)
    for name in signature:
        if name in own:
            if own[name][0] not in section:  # ``a, b`` is one entry
                section += "\n".join(own[name]).rstrip().split("\n")
        elif name in params:
            section += _indented(_entry(params[name]), indent)
        else:
            raise ValueError(f"{where}: no description of parameter {name!r}")
    gap = [""] if not head and end < len(lines) else []
    return lines[:start] + section + gap + lines[end:]


def _with_fragments(
    func: Callable[..., object], lines: list[str], fragments: Mapping[str, str]
) -> list[str]:
    out: list[str] = []
    for line in lines:
        match = _PLACEHOLDER.match(line)
        if match is None:
            out.append(line)
        elif match.group(2) in fragments:
            text = inspect.cleandoc(fragments[match.group(2)])
            out += _indented(text.split("\n"), match.group(1))
        else:
            raise ValueError(f"{func.__qualname__}: no text for the placeholder {line.strip()}")
    return out
