"""Write the intersphinx inventories the docs build reads offline (docs/_intersphinx/*.inv).

The docs link to Python, pint, numpy, SymPy, xarray and matplotlib through
``sphinx.ext.intersphinx``, but the build never downloads a project's ``objects.inv``: each
project's inventory here lists only the objects our pages name, each at its page in that
project's public documentation (the URL is the project's base in ``docs/conf.py`` followed by
the path below).  Add a line when a docstring or an annotation names a new object, then run::

    python docs/_intersphinx/make_inventories.py

The files are Sphinx inventories, version 2: four header lines, then zlib-compressed lines
``name domain:role priority uri display-name`` (``$`` in the uri stands for the name, ``-`` as
the display name for the name itself).
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _same(uri: str, *names: str, role: str = "py:class") -> dict[tuple[str, str], str]:
    """Several names of one object (its public name, the module path our annotations resolve
    to, the short name a docstring's type uses) at one URI."""
    return {(name, role): uri for name in names}


_FUNCTIONS = "library/functions.html#"
_TYPES = "library/stdtypes.html#"
_ABC = "library/collections.abc.html#collections.abc."

#: project -> (version, {(name, "domain:role"): uri relative to the project's base URL}).
#: Only what our pages link to: the types of the annotations and the objects docstrings name.
INVENTORIES: dict[str, tuple[str, dict[tuple[str, str], str]]] = {
    "python": (
        "3",
        {
            **{(n, "py:class"): _FUNCTIONS + n for n in ("int", "float", "bool", "object", "type")},
            **{(n, "py:class"): _TYPES + n
               for n in ("str", "bytes", "dict", "list", "tuple", "set", "frozenset")},
            ("None", "py:data"): "library/constants.html#None",
            **{(n, "py:exception"): "library/exceptions.html#" + n
               for n in ("Exception", "ValueError", "KeyError", "TypeError")},
            ("typing.Any", "py:data"): "library/typing.html#typing.Any",
            ("typing.Literal", "py:data"): "library/typing.html#typing.Literal",
            **{(f"collections.abc.{n}", "py:class"): _ABC + n
               for n in ("Callable", "Iterable", "Iterator", "Mapping", "Sequence")},
            ("pathlib.Path", "py:class"): "library/pathlib.html#pathlib.Path",
            ("os.PathLike", "py:class"): "library/os.html#os.PathLike",
            ("argparse.Namespace", "py:class"): "library/argparse.html#argparse.Namespace",
        },
    ),
    "pint": (
        "stable",
        {
            **_same("api/base.html#pint.Quantity", "pint.Quantity", "pint.registry.Quantity"),
            **_same("api/base.html#pint.Unit", "pint.Unit", "pint.registry.Unit"),
            **_same("api/base.html#pint.UnitRegistry", "pint.UnitRegistry",
                    "pint.registry.UnitRegistry"),
            **_same("api/base.html#pint.DimensionalityError", "pint.DimensionalityError",
                    "pint.errors.DimensionalityError", role="py:exception"),
        },
    ),
    "numpy": (
        "stable",
        {
            ("numpy.ndarray", "py:class"): "reference/generated/numpy.ndarray.html#numpy.ndarray",
            ("numpy.float64", "py:class"): "reference/arrays.scalars.html#numpy.float64",
        },
    ),
    "sympy": (
        "latest",
        {
            **_same("modules/core.html#sympy.core.expr.Expr", "sympy.Expr",
                    "sympy.core.expr.Expr"),
            **_same("modules/core.html#sympy.core.symbol.Symbol", "sympy.Symbol",
                    "sympy.core.symbol.Symbol"),
            **_same("modules/core.html#sympy.core.basic.Basic", "sympy.Basic",
                    "sympy.core.basic.Basic"),
        },
    ),
    "xarray": (
        "stable",
        {
            ("xarray.DataArray", "py:class"): "generated/xarray.DataArray.html#xarray.DataArray",
            ("xarray.Dataset", "py:class"): "generated/xarray.Dataset.html#xarray.Dataset",
        },
    ),
    "pandas": (
        "stable",
        {
            **_same("reference/api/pandas.DataFrame.html#pandas.DataFrame", "pandas.DataFrame",
                    "pd.DataFrame"),
            **_same("reference/api/pandas.Series.html#pandas.Series", "pandas.Series",
                    "pd.Series"),
        },
    ),
    "matplotlib": (
        "stable",
        _same("api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes",
              "matplotlib.axes.Axes", "Axes"),
    ),
}  # fmt: skip


def inventory(project: str, version: str, objects: dict[tuple[str, str], str]) -> bytes:
    """The bytes of a Sphinx (version 2) inventory of ``objects``.

    Parameters
    ----------
    project
        The project's name, as its own inventory gives it.
    version
        The documented version.
    objects
        ``(name, "domain:role") -> uri`` relative to the project's base URL.

    Returns
    -------
    bytes
        The inventory file's content.
    """
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [f"{name} {role} 1 {uri} -\n" for (name, role), uri in sorted(objects.items())]
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main() -> None:
    """Write every inventory of :data:`INVENTORIES` beside this file."""
    for name, (version, objects) in INVENTORIES.items():
        (HERE / f"{name}.inv").write_bytes(inventory(name, version, objects))


if __name__ == "__main__":
    main()
