"""Assumption sets: the efficiency and modelling values a :class:`~llmphys.Scenario` takes
when the user gives none, each with its source (``assumptions.toml`` beside this file).

* ``ideal``: the roofline bound (utilizations 1, FlashAttention, causal masking, no overhead);
* ``seed``: exactly the seed's values (40 % / 60 %, 12 % workspace, 80 ms, full attention);
* ``typical``: today's published defaults, each read off a published run.

>>> import llmphys as F
>>> s = F.assumption_sets["seed"]
>>> s.values["overhead"], s.sources["overhead"]
(0.08, 'seed: Formula Summary / TTFT (Prefill_time * 1000 + 80 ms)')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from llmphys.engine import glossary
from llmphys.engine.coercion import coerce
from llmphys.engine.variants import FEATURES
from llmphys.errors import ConfigError, did_you_mean
from llmphys.precisions import PRECISIONS
from llmphys.presets import Catalog, read_toml

__all__ = ["AssumptionSet", "assumption_set", "assumption_sets"]


@dataclass(frozen=True)
class AssumptionSet:
    """Named values (in glossary units) with a source for each."""

    name: str
    description: str
    values: Mapping[str, float]
    sources: Mapping[str, str]
    #: features the set switches on (``efficiency``: the fitted efficiency model)
    features: tuple[str, ...] = ()
    #: values that differ at one compute precision: ``{"fp8": {"utilization": (0.4, source)}}``
    by_compute: Mapping[str, Mapping[str, tuple[float, str]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def at(self, compute: str) -> tuple[Mapping[str, float], Mapping[str, str]]:
        """The values and sources at a compute precision (its own values, if the set has
        any, over the others).

        Parameters
        ----------
        compute
            The compute precision (``"bf16"``, ``"fp8"``).

        Returns
        -------
        tuple of mapping
            Input name -> value, and input name -> source.
        """
        own = self.by_compute.get(compute, {})
        values = {**self.values, **{k: v for k, (v, _) in own.items()}}
        sources = {**self.sources, **{k: f"at {compute} compute: {s}" for k, (_, s) in own.items()}}
        return values, sources

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:g}" for k, v in self.values.items())
        return f"<AssumptionSet {self.name}: {shown}>"

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.name}**: {self.description}", "", "| symbol | value | source |"]
        lines.append("|---|---:|---|")
        for k, v in self.values.items():
            lines.append(f"| `{k}` ({glossary[k].text}) | {v:g} | {self.sources[k]} |")
        for compute, own in self.by_compute.items():
            for k, (v, source) in own.items():
                lines.append(f"| `{k}` at {compute} compute | {v:g} | {source} |")
        return "\n".join(lines)


def _values(where: str, raw: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for key, item in raw.items():
        if key not in glossary or glossary[key].kind != "input":
            raise ConfigError(
                f"{where}: {key!r} is not an input symbol{did_you_mean(key, glossary)}"
            )
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
            raise ConfigError(f'{where}: {key} must be [value, "source"], got {item!r}')
        values[key] = float(coerce(glossary[key], item[0], where))
        sources[key] = item[1]
    return values, sources


def _build(name: str, entry: Mapping[str, Any], required: tuple[str, ...] = ()) -> AssumptionSet:
    where = f"assumption set {name!r}"
    raw = entry.get("values")
    if not isinstance(raw, Mapping) or "description" not in entry:
        raise ConfigError(f"{where}: needs a description and a [values] table")
    values, sources = _values(where, raw)
    by_compute: dict[str, Mapping[str, tuple[float, str]]] = {}
    for compute, table in dict(entry.get("compute", {})).items():
        if compute not in PRECISIONS:
            raise ConfigError(
                f"{where}: [compute.{compute}] is not a precision"
                f"{did_you_mean(compute, PRECISIONS)}"
            )
        own, own_sources = _values(f"{where}, at {compute} compute", table)
        by_compute[compute] = MappingProxyType({k: (v, own_sources[k]) for k, v in own.items()})
    missing = [k for k in required if k not in values]
    if missing:
        raise ConfigError(f"{where}: no value for {', '.join(missing)} (every set gives them all)")
    features = entry.get("features", [])
    if not isinstance(features, list) or not all(f in FEATURES for f in features):
        raise ConfigError(
            f"{where}: features must be a list of declared features ({', '.join(FEATURES)}), "
            f"got {features!r}"
        )
    return AssumptionSet(
        name,
        str(entry["description"]),
        MappingProxyType(values),
        MappingProxyType(sources),
        tuple(features),
        MappingProxyType(by_compute),
    )


def _entries() -> Mapping[str, Any]:
    return read_toml(__name__.rpartition(".")[0], "assumptions.toml")


def _build_checked(name: str, entry: Mapping[str, Any]) -> AssumptionSet:
    return _build(name, entry, tuple(_entries()["ideal"]["values"]))


#: The named assumption sets, by name.
assumption_sets: Catalog[AssumptionSet] = Catalog("assumption set", _entries, _build_checked)


def assumption_set(value: str | Mapping[str, Any] | AssumptionSet) -> AssumptionSet:
    """An assumption set by name, as is, or from a dict: ``{"utilization": 0.6, ...}`` on top
    of ``typical`` (``"base": "ideal"`` picks another base); each value given is marked
    as the user's.

    Parameters
    ----------
    value : str, dict or AssumptionSet
        A set's name (``"ideal"``, ``"seed"``, ``"typical"``), values on top of a base, or a
        set.

    Returns
    -------
    AssumptionSet
        The set (``value`` itself when it is one).

    Raises
    ------
    ConfigError
        Neither a name nor a dict, or a value the glossary refuses.
    UnknownNameError
        No set has that name.
    """
    if isinstance(value, AssumptionSet):
        return value
    if isinstance(value, str):
        return assumption_sets[value]
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"assumptions must be a set's name ({', '.join(assumption_sets)}) or a dict; "
            f"got {type(value).__name__}"
        )
    items = dict(value)
    base = assumption_sets[str(items.pop("base", "typical"))]
    given = _build(
        "custom",
        {"description": "", "values": {k: [v, "user"] for k, v in items.items()}},
    )
    return AssumptionSet(
        f"{base.name}+custom",
        f"{base.description}; changed: {', '.join(items) or 'nothing'}",
        MappingProxyType({**base.values, **given.values}),
        MappingProxyType({**base.sources, **given.sources}),
        base.features,
        MappingProxyType({c: MappingProxyType({k: v for k, v in own.items() if k not in items})
                          for c, own in base.by_compute.items()}),
    )
