"""The API reference (docs/reference/api/): a page per module, and numpydoc sections that last.

The pages are read here as text, the way autodoc reads them: every ``autofunction``,
``autoclass`` (and its ``:members:``), ``automethod``, ``autodata`` and ``autosummary`` entry
is imported, and every function and method the pages show must have a numpydoc
``Parameters`` section naming each of its parameters (none missing, none stale) and a
``Returns`` (or ``Yields``) section, unless it takes no parameters or returns ``None``.  No
Sphinx build is needed (the build itself is tests/test_docs.py's).

The intersphinx inventories the build reads offline (docs/_intersphinx/*.inv) are checked
against their generator, and every link in them against the public documentation sites.
"""

from __future__ import annotations

import importlib.util
import inspect
import pkgutil
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "reference" / "api"
INVENTORIES = ROOT / "docs" / "_intersphinx"
#: the projects the pages link to, each through an inventory shipped in docs/_intersphinx
PROJECTS = ("python", "pint", "numpy", "sympy", "xarray", "pandas", "matplotlib")

#: the modules with a page of their own (issue 22: a page per public module)
MODULE_PAGES = (
    "llmphys",
    "llmphys.units",
    "llmphys.sizing",
    "llmphys.sizing.layouts",
    "llmphys.serving",
    "llmphys.design_space",
    "llmphys.pd_sizing",
    "llmphys.validation",
    "llmphys.calibration",
    "llmphys.efficiency",
    "llmphys.plots",
    "llmphys.widgets",
    "llmphys.display",
    "llmphys.presets",
    "llmphys.engine",
    "llmphys.errors",
    "llmphys.cli",
)

#: what every notebook uses, and what the old single page documented: each keeps its name
#: (the anchor other pages and old links point to)
MUST_DOCUMENT = (
    "llmphys.Scenario",
    "llmphys.Formula",
    "llmphys.Formula.derive",
    "llmphys.Formula.lambdify",
    "llmphys.solve",
    "llmphys.Solution",
    "llmphys.check_units",
    "llmphys.define",
    "llmphys.load_hf_config",
    "llmphys.models",
    "llmphys.hardware",
    "llmphys.interconnects",
    "llmphys.assumption_sets",
    "llmphys.frontier",
    "llmphys.search",
    "llmphys.disaggregate",
    "llmphys.widgets.explore",
    "llmphys.widgets.Explorer",
    "llmphys.plots.roofline",
    "llmphys.plots.throughput_frontier",
    "llmphys.display.answer",
    "llmphys.units.ureg",
    "llmphys.engine.derive.Derivation",
    "llmphys.validation.predict",
    "llmphys.calibration.fit",
    "llmphys.cli.main",
)

DIRECTIVE = re.compile(
    r"^\.\. (auto(?:function|class|exception|method|data|attribute|module|summary))::"
    r"[ \t]*(\S*)\n((?:[ \t]+:[\w-]+:.*\n)*)((?:[ \t]*\n|[ \t]+\S.*\n)*)",
    re.MULTILINE,
)
SECTION = re.compile(r"^[ \t]*([A-Z][A-Za-z ]+)\n[ \t]*-{3,}[ \t]*$", re.M)  # numpydoc headers


@dataclass
class Shown:
    """One object an API page shows, and the page."""

    name: str
    page: str
    kind: str  # the directive: autofunction, autoclass, autodata...
    members: list[str] | None = None  # autoclass :members: (None: all documented members)
    special: list[str] = field(default_factory=list)


def _options(block: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^[ \t]+:([\w-]+):[ \t]*(.*)$", block, re.M)
    }


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def shown_on_pages() -> list[Shown]:
    """Every object the API pages document, in page order (autosummary entries included)."""
    shown: list[Shown] = []
    for page in sorted(API.glob("*.rst")):
        module = ""
        for m in DIRECTIVE.finditer(page.read_text()):
            kind, name, options, body = m.group(1), m.group(2), _options(m.group(3)), m.group(4)
            if kind == "automodule":
                module = name
                continue
            if kind == "autosummary":
                for entry in body.split():
                    entry = entry.lstrip("~")
                    full = entry if entry.startswith("llmphys") else f"{module}.{entry}"
                    shown.append(Shown(full, page.name, kind))
                continue
            members = options.get("members")
            shown.append(
                Shown(
                    name,
                    page.name,
                    kind,
                    None if members in (None, "") else _names(members),
                    _names(options.get("special-members", "")),
                )
            )
            if kind in ("autoclass", "autoexception") and "members" not in options:
                shown[-1].members = []
    return shown


def _resolve(name: str) -> Any:
    return pkgutil.resolve_name(name)


def _own_members(cls: type, listed: list[str] | None, special: list[str]) -> list[str]:
    """The members autodoc shows for ``autoclass`` with ``:members:`` (documented, public,
    the class's own), or the listed ones, plus ``:special-members:``."""
    if listed is not None:
        return [*listed, *special]
    names = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        raw = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if inspect.getdoc(raw) and (inspect.isfunction(raw) or isinstance(raw, property)):
            names.append(name)
    return [*names, *special]


def callables_shown() -> dict[str, Any]:
    """Every function and method the pages show, by documented name."""
    found: dict[str, Any] = {}
    for item in shown_on_pages():
        obj = _resolve(item.name)
        if item.kind in ("autoclass", "autoexception") and inspect.isclass(obj):
            for member in _own_members(obj, item.members, item.special):
                raw = inspect.getattr_static(obj, member)
                raw = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
                if inspect.isfunction(raw):
                    found[f"{item.name}.{member}"] = raw
        elif inspect.isfunction(obj) or (item.kind == "automethod" and callable(obj)):
            found[item.name] = obj
    return found


def _parameters(func: Any) -> list[str]:
    signature = inspect.signature(func)
    names = []
    for p in signature.parameters.values():
        if p.name in ("self", "cls"):
            continue
        names.append(p.name)  # *args and **kwargs by their names, as the docstring's stars vary
    return names


def _returns_none(func: Any) -> bool:
    return inspect.signature(func).return_annotation in (None, "None")


def sections(doc: str) -> dict[str, list[str]]:
    """A numpydoc docstring's sections (Parameters, Returns, Examples...): their lines, each
    up to the next section's header."""
    found: dict[str, list[str]] = {}
    matches = list(SECTION.finditer(doc))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        found[m.group(1)] = doc[m.end() : end].strip("\n").splitlines()
    return found


def documented_parameters(lines: list[str]) -> list[str]:
    """The names a Parameters section documents (``x, y : int`` documents x and y)."""
    names = []
    for line in lines:
        if not line.strip() or line[:1].isspace() or line.startswith((">>>", "...")):
            continue
        head = line.split(" : ", 1)[0]
        names += [n.strip().replace("\\", "").lstrip("*") for n in head.split(",") if n.strip()]
    return names


def problems(name: str, func: Any) -> list[str]:
    doc = inspect.getdoc(func) or ""
    found = sections(doc)
    wrong = []
    wanted = _parameters(func)
    if wanted:
        if "Parameters" not in found:
            wrong.append("no Parameters section")
        else:
            documented = documented_parameters(found["Parameters"])
            missing = [n for n in wanted if n not in documented]
            stale = [n for n in documented if n not in wanted]
            if missing:
                wrong.append(f"Parameters does not document {', '.join(missing)}")
            if stale:
                wrong.append(f"Parameters documents {', '.join(stale)}, not in the signature")
    if not _returns_none(func) and not ({"Returns", "Yields"} & set(found)):
        wrong.append("no Returns (or Yields) section")
    return [f"{name}: {w}" for w in wrong]


# ----------------------------------------------------------------------------- the pages
def test_a_page_per_public_module_in_the_index() -> None:
    index = (API / "index.rst").read_text()
    toctree = re.search(r"\.\. toctree::\n(?:[ \t]+:.*\n)*\n((?:[ \t]+\S.*\n)+)", index)
    assert toctree is not None
    listed = toctree.group(1).split()
    for module in MODULE_PAGES:
        assert module in listed, module
        page = (API / f"{module}.rst").read_text()
        assert f".. automodule:: {module}\n" in page, module
    assert sorted(listed) == sorted(p.stem for p in API.glob("*.rst") if p.stem != "index")
    # a table of the module's contents on each module page, and per topic on the index
    for page in API.glob("*.rst"):
        assert ".. autosummary::" in page.read_text(), page.name
    assert index.count(".. autosummary::") >= 8


def test_every_object_on_the_pages_imports_and_the_essentials_are_there() -> None:
    shown = shown_on_pages()
    names = {s.name for s in shown}
    for name in MUST_DOCUMENT:
        assert name in names or any(
            name.startswith(f"{s.name}.") and s.members is None for s in shown
        ), name
    for item in shown:
        _resolve(item.name)  # raises when a page names what does not exist
    # each object is documented once (autosummary rows only link to it)
    documented = [s.name for s in shown if s.kind != "autosummary"]
    assert len(documented) == len(set(documented)), sorted(
        n for n in documented if documented.count(n) > 1
    )
    # ... and each autosummary row links to an object documented on some page
    members = {
        f"{s.name}.{m}"
        for s in shown
        if s.kind in ("autoclass", "autoexception")
        for m in _own_members(_resolve(s.name), s.members, s.special)
    }
    for row in (s for s in shown if s.kind == "autosummary"):
        assert row.name in documented or row.name in members, (row.page, row.name)


def test_the_checker_reads_numpydoc_sections() -> None:
    def good(a: int, *rest: int, flag: bool = False, **more: Any) -> int:
        """Summary.

        Parameters
        ----------
        a, rest
            Numbers.
        flag : bool
            A flag.
        **more
            The rest.

        Returns
        -------
        int
            The sum.
        """
        return a

    def bad(a: int, b: int) -> int:
        """Summary.

        Parameters
        ----------
        a
            A number.
        c
            Not a parameter.
        """
        return a

    def quiet() -> None:
        """Nothing to say."""

    assert problems("good", good) == [], problems("good", good)
    assert problems("quiet", quiet) == []
    assert problems("bad", bad) == [
        "bad: Parameters does not document b",
        "bad: Parameters documents c, not in the signature",
        "bad: no Returns (or Yields) section",
    ]
    assert problems("bare", lambda x: x) == [
        "bare: no Parameters section",
        "bare: no Returns (or Yields) section",
    ]


def test_shared_sections_write_the_shared_descriptions_in_signature_order() -> None:
    from llmphys.engine.docs import shared_sections

    shared = {"a": "a : int\n    First.", "c": "c\n        Third,\n        on two lines."}
    raises = """Raises
    ------
    ValueError
        Never."""

    @shared_sections(shared, raises=raises)
    def inside(a: int, b: int, c: int) -> int:
        """Sum.

        Parameters
        ----------
        b
            Second.
        {params}

        {raises}
        """
        return a + b + c

    @shared_sections(shared)
    def alone(c: int, a: int) -> int:
        """Sum.

        {params}

        Returns
        -------
        int
            The sum.
        """
        return a + c

    assert inspect.getdoc(inside) == (
        "Sum.\n\nParameters\n----------\na : int\n    First.\nb\n    Second.\nc\n    Third,\n"
        "    on two lines.\n\nRaises\n------\nValueError\n    Never."
    )
    assert inspect.getdoc(alone) == (
        "Sum.\n\nParameters\n----------\nc\n    Third,\n    on two lines.\na : int\n    First.\n\n"
        "Returns\n-------\nint\n    The sum."
    )
    assert problems("alone", alone) == []


def test_shared_sections_refuse_an_incomplete_docstring_at_definition() -> None:
    from llmphys.engine.docs import shared_sections

    def doc(text: str) -> Any:
        def f(a: int, b: int) -> int:
            return a + b

        f.__doc__, f.__qualname__ = text, "f"
        return f

    with pytest.raises(ValueError, match=r"^f: no description of parameter 'b'$"):
        shared_sections({"a": "a\n    First."})(doc("Sum.\n\n{params}\n"))
    with pytest.raises(ValueError, match=r"^f: the docstring describes c, not parameters$"):
        shared_sections({"a": "a\n    A."})(
            doc("Sum.\n\nParameters\n----------\nb\n    B.\nc\n    C.\n{params}\n")
        )
    with pytest.raises(ValueError, match=r"^f: no text for the placeholder \{raises\}$"):
        shared_sections({})(doc("Sum.\n\n{raises}\n"))


def test_every_function_and_method_shown_has_parameters_and_returns() -> None:
    shown = callables_shown()
    assert len(shown) > 100
    wrong = [p for name, func in shown.items() for p in problems(name, func)]
    assert not wrong, "\n".join(wrong)


# ----------------------------------------------------------------------------- inventories
def _generator() -> ModuleType:
    path = INVENTORIES / "make_inventories.py"
    spec = importlib.util.spec_from_file_location("make_inventories", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_inventory(path: Path) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes()
    header = data.split(b"\n", 4)
    lines = zlib.decompress(header[4]).decode().splitlines()
    return [h.decode() for h in header[:4]], [line.split(" ", 4) for line in lines]


def test_intersphinx_inventories_are_shipped_and_current() -> None:
    conf = (ROOT / "docs" / "conf.py").read_text()
    gen = _generator()
    assert set(gen.INVENTORIES) == set(PROJECTS)
    for project, (version, objects) in gen.INVENTORIES.items():
        path = INVENTORIES / f"{project}.inv"
        assert path.read_bytes() == gen.inventory(project, version, objects), (
            f"{path.name} is stale: run python docs/_intersphinx/make_inventories.py"
        )
        header, entries = _read_inventory(path)
        assert header[0] == "# Sphinx inventory version 2"
        assert entries and all(len(e) == 5 for e in entries)
        for name, role, _priority, uri, _display in entries:
            assert role.startswith(("py:", "std:")), (project, name, role)
            assert "#" in uri and not uri.startswith(("http:", "/")), (project, name, uri)
        assert f'"{project}":' in conf, project
    # the names the issue asks to link
    pint_names = {e[0] for e in _read_inventory(INVENTORIES / "pint.inv")[1]}
    assert {"pint.Quantity", "pint.Unit"} <= pint_names
    assert "numpy.ndarray" in {e[0] for e in _read_inventory(INVENTORIES / "numpy.inv")[1]}
    sympy_names = {e[0] for e in _read_inventory(INVENTORIES / "sympy.inv")[1]}
    assert {"sympy.Expr", "sympy.Symbol"} <= sympy_names
    xarray_names = {e[0] for e in _read_inventory(INVENTORIES / "xarray.inv")[1]}
    assert {"xarray.DataArray", "xarray.Dataset"} <= xarray_names


@pytest.mark.parametrize("project", PROJECTS)
def test_inventory_links_point_at_the_named_object(project: str) -> None:
    """Every link's anchor is the object's full name (how Sphinx sites anchor objects), so a
    link lands on its object, not on the top of a page."""
    _, entries = _read_inventory(INVENTORIES / f"{project}.inv")
    for name, role, _priority, uri, _display in entries:
        anchor = uri.split("#", 1)[1]
        if role == "std:label":
            continue
        assert anchor in (name, "$") or name.endswith(anchor.rsplit(".", 1)[-1]), (name, uri)
