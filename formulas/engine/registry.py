"""The registry: every formula by name (:data:`registry`), and :class:`Registry`, which a user
registry extends without touching the built-in one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from llmphys.engine.glossary import Glossary, glossary
from llmphys.errors import (
    FormulaDefinitionError,
    UnknownNameError,
    did_you_mean,
)

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula


class Registry(Mapping[str, "Formula"]):
    """Formulas by name.  A registry with a ``parent`` sees the parent's formulas and adds its
    own without touching the parent (the user registry of :func:`llmphys.define`)."""

    def __init__(self, glossary: Glossary, parent: Registry | None = None) -> None:
        self.glossary = glossary
        self.parent = parent
        self._formulas: dict[str, Formula] = {}

    def add(self, item: Formula) -> Formula:
        if item.name in self:
            raise FormulaDefinitionError(
                f"formula {item.name!r} is already registered; every formula is defined once"
            )
        self._formulas[item.name] = item
        return item

    def __contains__(self, name: object) -> bool:
        return name in self._formulas or (self.parent is not None and name in self.parent)

    def __getitem__(self, name: str) -> Formula:
        if name in self._formulas:
            return self._formulas[name]
        if self.parent is not None and name in self.parent:
            return self.parent[name]
        raise UnknownNameError(f"unknown formula {name!r}{did_you_mean(name, self)}", name)

    def __iter__(self) -> Iterator[str]:
        if self.parent is not None:
            yield from self.parent
        yield from self._formulas

    def __len__(self) -> int:
        return len(self._formulas) + (len(self.parent) if self.parent is not None else 0)

    def own(self) -> list[str]:
        """Names defined in this registry (not inherited).

        Returns
        -------
        list of str
            In definition order.
        """
        return list(self._formulas)


#: Every built-in formula, by name.
registry = Registry(glossary)
