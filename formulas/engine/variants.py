"""Formula variants: which formula stands in for which, under which feature.

A variant is declared where it is defined, by the ``@formula`` decorator::

    @formula(unit="byte/token", ..., replaces="kv_bytes_per_token", feature="mla")
    def kv_bytes_per_token_mla(layers, mla_latent_width, kv_bytes): ...

A *feature* is an architectural (or deployment) property: multi-head latent attention, sliding
windows, experts, a layout over several GPUs.  Physics modules declare the features they know
(:func:`declare_feature`, with what each means to a reader); presets list the features of a
model and nothing else.  :class:`Variants` turns a set of features into formulas: any registry
formula with every part those features replace swapped for its variant, at any depth
(:meth:`~llmphys.Formula.with_parts`).  The registry itself is never changed, and a set of
features is resolved once, whatever model or scenario asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

import pint

from llmphys.engine.docs import shared_sections
from llmphys.errors import FormulaDefinitionError, InputError, UnitError, did_you_mean
from llmphys.units import describe_dimension, same_unit

if TYPE_CHECKING:  # pragma: no cover
    from llmphys.engine.formula import Formula, Registry

__all__ = ["FEATURES", "Variants", "check_variant", "declare_feature", "variants_for"]

_FEATURES: dict[str, str] = {}
_WRAPPING: set[str] = set()

#: Every declared feature, with what it means (read-only view).
FEATURES: Mapping[str, str] = MappingProxyType(_FEATURES)

#: the methods that take a formula or a registry formula's name as ``f`` (here and in the
#: presets: a model's formula, inputs_for, evaluate), their ``f`` described once
takes_formula = shared_sections({"f": "f\n    A formula or a registry formula's name."})


def declare_feature(name: str, meaning: str, wraps: bool = False) -> str:
    """Declare a feature (``"mla"``) and what it means to a reader; returns the name.

    A *wrapping* feature (``wraps=True``: the efficiency model) has variants that build on a
    part whatever stands in for it: where another feature's variant builds on the same part
    too, the wrapping one goes around it (two non-wrapping variants that both build on a part
    are alternatives, and refused together).

    Parameters
    ----------
    name
        The feature's name, a python identifier.
    meaning
        What it means, for a reader (shown where a model or layout switches it on).
    wraps
        Whether its variants go around other features' variants of the same part.

    Returns
    -------
    str
        ``name`` (to keep as a module constant).

    Raises
    ------
    FormulaDefinitionError
        The name is not an identifier, or is already declared with another meaning.
    """
    if not name.isidentifier():
        raise FormulaDefinitionError(f"feature {name!r} must be a python identifier")
    if name in _FEATURES and _FEATURES[name] != meaning:
        raise FormulaDefinitionError(f"feature {name!r} is already declared; declare it once")
    _FEATURES[name] = meaning
    if wraps:
        _WRAPPING.add(name)
    return name


def check_variant(
    name: str, unit: pint.Unit, replaces: str, feature: str, registry: Registry
) -> None:
    """Refuse a variant of an unknown formula or feature, or of another unit."""
    where = f"formula {name!r}"
    if feature not in _FEATURES:
        raise FormulaDefinitionError(
            f"{where}: unknown feature {feature!r}{did_you_mean(feature, _FEATURES)}; declare "
            "it first (llmphys.engine.variants.declare_feature)"
        )
    if replaces not in registry:
        raise FormulaDefinitionError(
            f"{where} replaces {replaces!r}, which is not a registered formula"
            f"{did_you_mean(replaces, registry)}"
        )
    base = registry[replaces].unit
    ok, _ = same_unit(unit, base)
    if not ok:
        raise UnitError(
            f"{where} replaces {replaces!r} but is in {unit:~P} ({describe_dimension(unit)}), "
            f"not {base:~P} ({describe_dimension(base)})",
            unit,
            base,
        )


def variants_for(feature: str, registry: Registry) -> dict[str, str]:
    """``{replaced formula: variant}`` declared under ``feature`` in ``registry``."""
    found: dict[str, str] = {}
    for fname in registry:
        f = registry[fname]
        if f.feature == feature and f.replaces is not None:
            if f.replaces in found:
                raise FormulaDefinitionError(
                    f"feature {feature!r}: {found[f.replaces]!r} and {fname!r} both replace "
                    f"{f.replaces!r}; keep one"
                )
            found[f.replaces] = fname
    return found


def _names(f: Formula) -> set[str]:
    return {g.name for g, _ in f.chain()}


class Variants:
    """Registry formulas as they apply to a set of ``features``.

    :meth:`formula` returns any formula with every part these features replace swapped for its
    variant, at any depth; a formula replaced as a whole becomes its variant.  Formulas are
    built once per instance; :meth:`of` shares one instance per set of features.
    """

    _shared: ClassVar[dict[tuple[int, int, frozenset[str]], Variants]] = {}

    def __init__(self, features: Iterable[str], registry: Registry, where: str = "") -> None:
        self.features = tuple(dict.fromkeys(features))
        self.registry = registry
        self.where = where or f"features {', '.join(self.features) or '(none)'}"
        unknown = [f for f in self.features if f not in _FEATURES]
        if unknown:
            raise InputError(
                f"{self.where}: unknown feature {unknown[0]!r}"
                f"{did_you_mean(unknown[0], _FEATURES)} (known: {', '.join(_FEATURES)})"
            )
        variants: dict[str, str] = {}
        inner: dict[str, str] = {}
        for feature in self.features:
            for part, variant in variants_for(feature, registry).items():
                if part in variants and variants[part] != variant:
                    if part in inner:
                        raise InputError(
                            f"{self.where}: features give {part!r} three variants "
                            f"({inner[part]!r}, {variants[part]!r} and {variant!r}); keep two"
                        )
                    outer = self._stack(part, variants[part], variant)
                    inner[part] = variant if outer == variants[part] else variants[part]
                    variant = outer
                variants[part] = variant
        #: a part two features replace: the variant that builds on the part (outer) wraps the
        #: one that replaces it outright (inner): ``prefill_flops`` of a model that computes
        #: logits at the last position, with a prefix cache.  When both build on it, a
        #: wrapping feature's goes around the other: the efficiency model's prefill step around
        #: a layout's
        self._inner: Mapping[str, str] = MappingProxyType(inner)
        #: ``{replaced formula: variant}`` for these features.
        self.variants: Mapping[str, str] = MappingProxyType(variants)
        self._formulas: dict[str, Formula] = {}
        self._resolved: dict[str, Formula] = {}

    def _stack(self, part: str, a: str, b: str) -> str:
        """Of two variants of ``part``, the one that wraps the other (the outer): the one that
        builds on the part, or of two that do, the one of a wrapping feature; refused
        otherwise."""
        builds = [v for v in (a, b) if part in _names(self.registry[v])]
        if len(builds) == 2:
            wrapping = [v for v in builds if self.registry[v].feature in _WRAPPING]
            if len(wrapping) == 1:
                return wrapping[0]
        if len(builds) != 1:
            raise InputError(
                f"{self.where}: features give {part!r} two variants ({a!r} and {b!r}); keep one"
            )
        return builds[0]

    @classmethod
    def of(cls, features: Iterable[str], registry: Registry, where: str = "") -> Variants:
        """The shared resolver of ``features`` (in any order) over ``registry``.

        Parameters
        ----------
        features
            Feature names (a model's, a layout's, an assumption set's).
        registry
            The registry whose variants apply.
        where
            The asker, named in error messages.

        Returns
        -------
        Variants
            One instance per set of features, shared.
        """
        chosen = tuple(dict.fromkeys(features))
        key = (id(registry), len(registry), frozenset(chosen))  # a user formula added: anew
        found = cls._shared.get(key)
        if found is None:
            found = cls._shared[key] = cls(chosen, registry, where)
        return found

    @takes_formula
    def formula(self, f: Formula | str) -> Formula:
        """A formula under these features.

        {params}

        Returns
        -------
        Formula
            ``f`` with every part these features replace swapped for its variant (``f``
            itself when none applies).
        """
        base = self.registry[f] if isinstance(f, str) else f
        if any(base is made for made in self._formulas.values()):
            return base  # already resolved here
        cacheable = isinstance(f, str) or self.registry.get(base.name) is base
        if cacheable and base.name in self._formulas:
            return self._formulas[base.name]
        result = self._resolve(base.name) if base.name in self.variants else self._apply(base)
        if cacheable:
            self._formulas[base.name] = result
        return result

    def _apply(self, target: Formula, own: str | None = None) -> Formula:
        """``target`` with the variants swapped in for the parts it uses.

        Skipped: ``own`` (the part ``target`` itself replaces: it builds on it), parts whose
        variant ``target`` already contains (it builds on the base), and parts used at an input
        the variant does not take (a formula pinned to a specific instance).
        """
        names = _names(target)
        swaps: dict[str, Formula] = {}
        for part, variant in self.variants.items():
            if part == own or part not in names or variant in names:
                continue
            replacement = self._resolve(part)
            if not self._fits(target, part, replacement):
                continue
            swaps[part] = replacement
        return target.with_parts(**swaps) if swaps else target

    def _resolve(self, part: str, active: frozenset[str] = frozenset()) -> Formula:
        """The variant that replaces ``part``, itself rebound to the other variants."""
        if part in self._resolved:
            return self._resolved[part]
        if part in active:  # pragma: no cover - declared variants have no cycles
            raise InputError(f"{self.where}: variants of {part!r} form a cycle")
        name = self.variants[part]
        if name in self.variants:  # a variant replaced in turn (moe -> dense + moe stack)
            result = self._resolve(name, active | {part})
        else:
            result = self._apply(self.registry[name], own=part)
        if part in self._inner:  # the outer variant builds on the inner one, not on the base
            inner = self._apply(self.registry[self._inner[part]], own=part)
            result = result.with_parts(**{part: inner})
        self._resolved[part] = result
        return result

    @staticmethod
    def _fits(target: Formula, part: str, replacement: Formula) -> bool:
        takes = {s.name for s in replacement.inputs}
        for g, _ in target.chain():
            for p in g.parts.values():
                if p.name == part and any(k.name not in takes for k, _ in p.subs):
                    return False
        return True
