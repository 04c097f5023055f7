"""Inputs that bound each other: more experts per token than experts is not a model.

Each :data:`RELATIONS` entry says one glossary input can never exceed another, and why.  A
call, derivation or sweep whose values break one is refused naming both values
(:func:`check_relations`), and ``solve`` searches for an unknown only where the given values
allow it (:func:`bounds_for`): the largest ``n_experts`` that keeps ``experts_touched`` under a
budget is at least ``experts_per_token``, the largest ``pp`` at most ``layers``.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping
from typing import Any, NamedTuple

import numpy as np

from llmphys.errors import InputError

__all__ = ["RELATIONS", "Bounds", "Relation", "bounds_for", "check_relations"]


class Relation(NamedTuple):
    """``smaller`` <= ``larger``, because ``why``."""

    smaller: str
    larger: str
    why: str


#: the counts of one kind of layer, each some of the ``layers``: input -> the kind
_LAYER_KINDS = {
    "attention_layers": "attention",
    "ssm_layers": "recurrent",
    "moe_layers": "mixture-of-experts",
    "dense_layers": "dense",
    "global_layers": "global-attention",
    "local_layers": "local-attention",
}

RELATIONS: tuple[Relation, ...] = (
    Relation("experts_per_token", "n_experts", "a token is routed to at most every expert"),
    Relation("ep", "n_experts", "each expert-parallel rank holds at least one expert"),
    Relation("n_kv_heads", "n_heads", "each KV head serves one query head or more"),
    Relation("tp", "n_heads", "each tensor-parallel rank holds at least one attention head"),
    Relation("pp", "layers", "each pipeline stage holds at least one layer"),
    Relation("tp", "ssm_heads", "each tensor-parallel rank holds at least one Mamba-2 head"),
    *(
        Relation(name, "layers", f"the {kind} layers are some of the layers")
        for name, kind in _LAYER_KINDS.items()
    ),
    Relation("n_microbatches", "batch", "each micro-batch holds at least one sequence"),
    Relation("prompt_len", "seq_len", "the context at the last token holds the whole prompt"),
    Relation("active_params", "params", "the parameters a token uses are some of the model's"),
)


def check_relations(
    values: Mapping[str, Any], where: str, changed: Container[str] | None = None
) -> None:
    """Refuse ``values`` (numbers or arrays, in glossary units) that break a relation, naming
    the first pair of values that does (``experts_per_token=16 exceeds n_experts=8``); only
    the relations of the ``changed`` names when given (the others held before)."""
    for rel in RELATIONS:
        if changed is not None and rel.smaller not in changed and rel.larger not in changed:
            continue
        small, large = values.get(rel.smaller), values.get(rel.larger)
        if small is None or large is None:
            continue
        if type(small) is float and type(large) is float:  # a call's scalars: no arrays
            if small > large:
                _refuse(rel, small, large, where)
            continue
        a, b = np.broadcast_arrays(np.asarray(small, dtype=float), np.asarray(large, dtype=float))
        broken = a > b
        if broken.any():
            at = np.unravel_index(np.argmax(broken), broken.shape)
            _refuse(rel, float(a[at]), float(b[at]), where)


def _refuse(rel: Relation, small: float, large: float, where: str) -> None:
    raise InputError(
        f"{where}: {rel.smaller}={small:.6g} exceeds {rel.larger}={large:.6g}, but {rel.why}: "
        "the inputs contradict each other"
    )


class Bounds(NamedTuple):
    """What the given values leave an unknown: ``lower`` <= it <= ``upper``, each end with
    its reasons (``"experts_per_token = 8 (a token is routed to at most every expert)"``)."""

    lower: float
    upper: float
    why_lower: tuple[str, ...]
    why_upper: tuple[str, ...]


def bounds_for(unknown: str, values: Mapping[str, float]) -> Bounds:
    """The range the given ``values`` leave ``unknown``, and why."""
    lower, upper, why_lower, why_upper = 0.0, math.inf, [], []
    for rel in RELATIONS:
        if rel.larger == unknown and rel.smaller in values:
            lower = max(lower, float(values[rel.smaller]))
            why_lower.append(f"{rel.smaller} = {float(values[rel.smaller]):g} ({rel.why})")
        if rel.smaller == unknown and rel.larger in values:
            upper = min(upper, float(values[rel.larger]))
            why_upper.append(f"{rel.larger} = {float(values[rel.larger]):g} ({rel.why})")
    return Bounds(lower, upper, tuple(why_lower), tuple(why_upper))
