"""A model: architecture values keyed by glossary symbol, and the formula variants it needs.

A :class:`Model` is what :func:`llmphys.load_hf_config` returns and what ``llmphys.models[name]``
holds.  It knows two things:

* ``values``: a number for each architecture symbol of the glossary (``layers``, ``hidden``,
  ``n_kv_heads``, ``head_dim``, ``kv_lora_rank``, ``sliding_window``, ...), plus ``params`` and
  ``active_params`` *derived* from them by the parameter-count formulas;
* ``features``: which real-architecture variants apply (MLA, sliding windows, attention biases,
  q/k norms, experts, ...).  Each variant declares what it replaces and under which feature
  where it is defined (:mod:`llmphys.engine.variants`); :meth:`Model.formula` returns any
  registry formula rebound to this model's variants; the registry itself is never changed.

>>> import llmphys as F
>>> m = F.models["deepseek-v3"]
>>> f = m.formula("kv_elements_per_token")
>>> print(f(**m.inputs_for(f)))
35136.0 element/tok
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pint
import sympy

from llmphys.engine import Formula, glossary, registry
from llmphys.engine.binding import preset_values
from llmphys.engine.relations import check_relations
from llmphys.engine.variants import FEATURES, Variants, takes_formula
from llmphys.errors import InputError, UnknownNameError, did_you_mean
from llmphys.precisions import PRECISIONS, WEIGHT_CLASSES
from llmphys.presets.breakdown import Breakdown, BreakdownRow

__all__ = ["DECLARED", "Breakdown", "BreakdownRow", "Model"]

#: the source of a value a family's declaration fixes (norms per layer), not a config field
DECLARED = "the family's declaration"

# parameter-count pieces shown by Model.params_breakdown(), in reading order
_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("embedding_params", "embedding table and output head"),
    ("attention_params", "attention"),
    ("ssm_params", "recurrent mixers (Mamba / Gated DeltaNet)"),
    ("layer_norm_params", "norms"),
    ("ffn_params", "dense feed-forward blocks"),
    ("expert_params", "experts"),
    ("router_params", "routers"),
)


#: the counts a model derives from its architecture: value -> the formula that counts it
COUNTED: Mapping[str, str] = {"params": "param_count", "active_params": "active_param_count"}
#: layer counts of each kind that add up to all the layers in some families (a changed model
#: keeps each sum its config has)
_LAYER_KINDS = (
    ("moe_layers",),
    ("attention_layers", "ssm_layers"),
    ("attention_layers", "ssm_layers", "moe_layers"),
    ("attention_layers", "ssm_layers", "dense_layers", "moe_layers"),
    ("dense_layers", "moe_layers"),
    ("local_layers", "global_layers"),
)


class Model:
    """A model architecture: glossary values, the variants that apply, and where it comes from.

    Build one with :func:`llmphys.load_hf_config` (or take a preset from ``llmphys.models``).
    ``values`` maps glossary symbol names to numbers; ``params`` and ``active_params`` are derived
    from the others by ``param_count`` and ``active_param_count`` (with this model's variants).
    ``assumptions`` lists every default :func:`~llmphys.load_hf_config` applied; ``notes``
    lists facts worth knowing (what is left out of the counts, how weights are stored).
    ``context_limit`` is the longest sequence the model takes (its
    ``max_position_embeddings``), None when unknown.
    """

    def __init__(
        self,
        *,
        name: str,
        family: str,
        values: Mapping[str, float],
        features: Iterable[str] = (),
        display_name: str = "",
        source: str = "",
        as_of: str = "",
        hf_id: str = "",
        assumptions: Iterable[str] = (),
        notes: Iterable[str] = (),
        published: Mapping[str, Any] | None = None,
        sources: Mapping[str, tuple[str, ...]] | None = None,
        context_limit: int | None = None,
        context_source: str = "",
        context_original: int | None = None,
        precisions: Mapping[str, str] | None = None,
        precision_source: str = "",
    ) -> None:
        self.name = name
        self.family = family
        self.display_name = display_name or name or family
        self.source = source
        self.as_of = as_of
        self.hf_id = hf_id
        self.features = tuple(features)
        self.assumptions = tuple(assumptions)
        self.notes = tuple(notes)
        self.published = MappingProxyType(dict(published or {}))
        #: for each value read from a config.json, the fields it came from
        self.sources: Mapping[str, tuple[str, ...]] = MappingProxyType(dict(sources or {}))
        if context_limit is not None and (
            isinstance(context_limit, bool) or not isinstance(context_limit, int)
            or context_limit < 1
        ):  # fmt: skip
            raise InputError(
                f"model {self.display_name!r}: context_limit must be a positive whole number of "
                f"tokens; got {context_limit!r}"
            )
        #: the longest sequence (prompt + output) the model takes, in tokens, or None if unknown
        self.context_limit = context_limit
        #: where the limit comes from (``max_position_embeddings 131,072 (rope_scaling ...)``)
        self.context_source = context_source
        #: the context before rope scaling extended it (``original_max_position_embeddings``)
        self.context_original = context_original
        released = dict.fromkeys(WEIGHT_CLASSES.values(), "bf16")
        unknown_keys = set(precisions or {}) - set(released)
        if unknown_keys:
            raise InputError(
                f"model {self.display_name!r}: precisions take {', '.join(released)}; got "
                f"{', '.join(sorted(unknown_keys))}"
            )
        released.update(precisions or {})
        for key, name in released.items():
            if name not in PRECISIONS:
                raise UnknownNameError(
                    f"model {self.display_name!r}: {key} {name!r} is not a named precision"
                    f"{did_you_mean(str(name), PRECISIONS)}",
                    str(name),
                )
        #: the precisions the checkpoint stores: ``bytes_per_param`` (the body),
        #: ``expert_bytes`` (routed experts), ``embedding_bytes`` (embeddings and head)
        self.precisions: Mapping[str, str] = MappingProxyType(released)
        #: how they were read (``experts mxfp4, the rest bf16 (quantization_config mxfp4)``)
        self.precision_source = precision_source or "bf16 (not given)"
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise UnknownNameError(
                f"model {self.display_name!r}: unknown feature {unknown[0]!r}"
                f"{did_you_mean(unknown[0], FEATURES)}",
                unknown[0],
            )
        self._variants = Variants.of(self.features, registry, f"model {self.display_name!r}")
        #: ``{replaced formula: variant}`` of this model's features.
        self.variants: Mapping[str, str] = self._variants.variants
        self._settle(values)

    def _settle(self, values: Mapping[str, float]) -> None:
        """Check the architecture's ``values`` and take them, with the counts they give (the
        counting formulas read ``self.values``, so the values are taken first)."""
        self._check(values)
        self.values: Mapping[str, float] = MappingProxyType(dict(values))
        derived = {name: self._count(count) for name, count in COUNTED.items()}
        self.values = MappingProxyType({**values, **derived})

    def _check(self, values: Mapping[str, float]) -> None:
        """Refuse values no formula could make sense of: unknown symbols, derived counts given
        by hand, layer and expert counts that do not add up."""
        where = f"model {self.display_name!r}"
        for key in values:
            if key not in glossary or glossary[key].kind != "input":
                inputs = [e.name for e in glossary.inputs()]
                raise UnknownNameError(
                    f"{where}: {key!r} is not an input symbol of the glossary"
                    f"{did_you_mean(key, inputs)}",
                    key,
                )
        derived = [k for k in ("params", "active_params") if k in values]
        if derived:
            raise InputError(
                f"{where}: {' and '.join(derived)} are derived from the architecture "
                "(param_count, active_param_count); do not give them"
            )
        v = values

        def sums(parts: tuple[str, str]) -> None:
            if all(p in v for p in parts) and v[parts[0]] + v[parts[1]] != v.get("layers"):
                raise InputError(
                    f"{where}: {parts[0]} + {parts[1]} = {v[parts[0]]:g} + {v[parts[1]]:g} "
                    f"must equal layers = {v.get('layers', 0):g}"
                )

        sums(("local_layers", "global_layers"))
        if "recurrent_state" in self.features:  # blocks of one mixer each: some have no FFN
            ffn = v.get("dense_layers", 0) + v.get("moe_layers", 0)
            if ffn > v.get("layers", 0):
                raise InputError(
                    f"{where}: dense_layers + moe_layers = {ffn:g} is more than layers = "
                    f"{v.get('layers', 0):g}"
                )
            return check_relations(v, where)
        sums(("dense_layers", "moe_layers"))
        if "moe_layers" in v and "dense_layers" not in v and v["moe_layers"] != v.get("layers"):
            raise InputError(
                f"{where}: moe_layers = {v['moe_layers']:g} must equal layers = "
                f"{v.get('layers', 0):g} when no layer is dense"
            )
        check_relations(v, where)  # k <= E, n_kv <= n_heads, MoE layers <= layers, ...

    def replace(self, **values: Any) -> Model:
        """This model with some architecture values changed (a what-if: fewer layers, another
        expert count), checked as a config's values are, its parameter counts counted again.

        The layer counts of each kind that add up to ``layers`` in the config must still: a
        hybrid whose 48 layers are 12 attention and 36 recurrent ones cannot be given 96
        layers alone.

        Parameters
        ----------
        **values
            Glossary inputs of the architecture (``layers=40``, ``experts_per_token=1``).

        Returns
        -------
        Model
            The changed model (this one is left as it is).

        Raises
        ------
        InputError
            A value refused, or layer counts that no longer add up.
        """
        import copy

        from llmphys.engine.coercion import coerce

        where = f"model {self.display_name!r}"
        base = {k: v for k, v in self.values.items() if k not in COUNTED}
        changed = {**base}
        for name, value in values.items():
            if name in COUNTED:
                raise InputError(f"{where}: {name} is counted from the architecture; give the "
                                 "architecture values it comes from")  # fmt: skip
            changed[name] = float(coerce(glossary[name], value, where))
        for kinds in _LAYER_KINDS:
            if all(k in base for k in kinds) and sum(base[k] for k in kinds) == base["layers"]:
                total = sum(changed[k] for k in kinds)
                if total != changed["layers"]:
                    raise InputError(
                        f"{where}: {' + '.join(kinds)} = {total:g} must equal layers = "
                        f"{changed['layers']:g}, as in its config; change them together"
                    )
        made = copy.copy(self)
        made._settle(changed)
        return made

    # ------------------------------------------------------------------------- identity
    @property
    def attention(self) -> str:
        """``"MHA"``, ``"GQA"``, ``"MQA"``, ``"MLA"``, or ``"none"`` (a Mamba model)."""
        if "attention_free" in self.features:
            return "none"
        if "mla" in self.features:
            return "MLA"
        n_kv, n_h = self.values["n_kv_heads"], self.values["n_heads"]
        if n_kv == n_h:
            return "MHA"
        return "MQA" if n_kv == 1 else "GQA"

    @property
    def is_moe(self) -> bool:
        return "moe" in self.features

    @property
    def has_sliding_window(self) -> bool:
        return "sliding_window" in self.features

    def attention_text(self) -> str:
        """The attention layout in words: ``"GQA, 8 KV heads x 128"``.

        Returns
        -------
        str
            The kind of attention, its heads and sizes, sliding windows and recurrent layers.
        """
        v = self.values
        if self.attention == "none":
            kind = "Mamba-1" if "mamba1" in self.features else "Mamba-2"
            return (
                f"none: {v['layers']:,} {kind} blocks keep a fixed state per sequence, no KV "
                "cache"
            )
        if self.attention == "MLA":
            text = (
                f"MLA, latent {v['kv_lora_rank']:,} + rotary key {v['qk_rope_head_dim']:,} "
                f"per layer ({v['n_heads']:,} heads)"
            )
        elif self.attention == "MHA":
            text = f"MHA, {v['n_heads']:,} heads x {v['head_dim']:,}"
        else:
            kv = "1 KV head" if v["n_kv_heads"] == 1 else f"{v['n_kv_heads']:,} KV heads"
            text = f"{self.attention}, {kv} x {v['head_dim']:,} ({v['n_heads']:,} query heads)"
        if self.has_sliding_window:
            text += (
                f"; {v['local_layers']:,} of {v['layers']:,} layers slide over "
                f"{v['sliding_window']:,} tokens"
            )
        if "recurrent_state" in self.features:
            kind = (
                "Gated DeltaNet"
                if "gated_deltanet" in self.features
                else "Mamba-1"
                if "mamba1" in self.features
                else "Mamba-2"
            )
            text += (
                f"; attention in {v['attention_layers']:,} of {v['layers']:,} layers, "
                f"{v['ssm_layers']:,} {kind} layers keep a fixed state per sequence"
            )
        return text

    def __repr__(self) -> str:
        n = self.values["params"]
        moe = f", {self.values['active_params'] / 1e9:.3g}B active" if self.is_moe else ""
        return (
            f"<Model {self.name or self.family}: {self.display_name}, {self.attention_text()}, "
            f"{n / 1e9:.4g}B params{moe}>"
        )

    def describe(self) -> str:
        """A readable summary: architecture, variants, assumptions, notes and source.

        Returns
        -------
        str
            One fact per line.
        """
        lines = [f"{self.display_name} ({self.family})", f"  attention: {self.attention_text()}"]
        lines.append(
            f"  parameters: {self.values['params']:,.0f} total, "
            f"{self.values['active_params']:,.0f} active (embedding lookup excluded)"
        )
        lines.append(f"  released precision: {self.precision_source}")
        if self.context_limit is not None:
            lines.append(f"  context limit: {self.context_limit:,} tokens ({self.context_source})")
        for feature in self.features:
            lines.append(f"  variant: {FEATURES[feature]}")
        lines += [f"  assumed: {a}" for a in self.assumptions]
        lines += [f"  note: {n}" for n in self.notes]
        if self.source:
            lines.append(
                f"  source: {self.source}" + (f" (as of {self.as_of})" if self.as_of else "")
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------------- formulas
    @takes_formula
    def formula(self, f: Formula | str) -> Formula:
        """The formula ``f`` (a name or a :class:`~llmphys.Formula`) as it applies to this
        architecture: every part this model replaces is swapped for its variant, at any depth.

        A formula this model replaces as a whole (``kv_cache_bytes`` of a sliding-window model)
        becomes its variant.  Formulas without such parts come back unchanged.

        {params}

        Returns
        -------
        Formula
            This model's variant of it.
        """
        return self._variants.formula(f)

    @takes_formula
    def inputs_for(self, f: Formula | str, given: Iterable[str] = ()) -> dict[str, float]:
        """This model's values for the inputs of ``f``: ``f(**m.inputs_for(f), seq_len=...)``.

        A name means this model's variant (:meth:`formula`); a :class:`~llmphys.Formula` is
        taken as given.  Inputs the model has no value for (context, batch, precision,
        hardware) stay free.

        Parameters
        ----------
        {params}
        given
            Parts the caller will give directly (their inputs are then left out).

        Returns
        -------
        dict of str to float
            Input name -> this model's value, in its glossary unit.
        """
        return preset_values(self.formula(f) if isinstance(f, str) else f, self.values, given)

    @takes_formula
    def evaluate(self, f: Formula | str, **values: Any) -> pint.Quantity:
        """``f`` (this model's variant of it) at this model's values and the ``values`` given.

        Given values win over the model's; a part may be given directly by its registry name,
        also when this model computes it with a variant (``kv_cache_bytes=`` for a
        sliding-window model).

        Parameters
        ----------
        {params}
        **values
            The inputs the model does not give (context, batch, precisions, hardware), or any
            to change.

        Returns
        -------
        Quantity
            The formula's value, in its unit.

        Raises
        ------
        InputError
            An input is still missing, or a value is refused.
        """
        g = self.formula(f)
        overridable = g.overridable_parts()
        given = [k for k in values if k in overridable]
        preset = {k: v for k, v in self.inputs_for(g, given).items() if k not in values}
        return g(**preset, **values)

    def _count(self, name: str) -> int:
        return round(self.evaluate(name).to("parameter").magnitude)

    # ------------------------------------------------------------------------- breakdown
    def params_breakdown(self) -> Breakdown:
        """Parameters by component (embeddings, attention, norms, FFN, experts, routers, final
        norm), total and active.

        The count of each component is read off the parameter-count formulas themselves: the
        coefficient of the component's part in the expanded ``param_count`` (and
        ``active_param_count``) of this model, e.g. ``L_MoE (E + E_s)`` for the experts.

        Returns
        -------
        llmphys.presets.Breakdown
            One row per component (count, parameters per instance, total, active), as a
            table.
        """
        total_f = self.formula("param_count")
        active_f = self.formula("active_param_count")
        rows: list[BreakdownRow] = []
        split = {key: self._split(f) for key, f in (("total", total_f), ("active", active_f))}
        for base, label in _COMPONENTS:
            tot, act = split["total"][0].get(base), split["active"][0].get(base)
            if tot is None or tot[1] == 0:
                continue
            each = self._count(base)
            act = act or (sympy.Integer(0), 0)
            rows.append(
                BreakdownRow(
                    component=label,
                    formula=self.variants.get(base, base),
                    each=each,
                    count=tot[1],
                    active_count=act[1],
                    count_text=total_f.to_text(tot[0]),
                    active_count_text=active_f.to_text(act[0]) if act[1] else "0",
                )
            )
        if "sparse_indexer" in self.features:  # the indexer apart from MLA's projections
            at = next(i for i, r in enumerate(rows) if r.component == "attention")
            attn, indexer = rows[at], self._count("indexer_params")
            rows[at : at + 1] = [
                replace(attn, each=attn.each - indexer, formula="mla_attention_params"),
                replace(attn, component="sparse-attention indexer", each=indexer,
                        formula="indexer_params"),
            ]  # fmt: skip
        rest_total, rest_active = split["total"][1], split["active"][1]
        if rest_total or rest_active:
            rows.append(
                BreakdownRow(
                    component="final norm",
                    formula="",
                    each=rest_total,
                    count=1,
                    active_count=1 if rest_active else 0,
                    count_text="1",
                    active_count_text="1" if rest_active else "0",
                )
            )
        apart = []
        if self.values.get("mtp_layers"):
            n = int(self.values["mtp_layers"])
            apart.append(
                BreakdownRow(
                    component="multi-token prediction (not in the total)",
                    formula="mtp_params",
                    each=self._count("mtp_params") // n,
                    count=n,
                    active_count=0,
                    count_text="n_MTP" if n > 1 else "1",
                    active_count_text="0",
                )
            )
        return Breakdown(
            model=self.display_name,
            rows=tuple(replace(r, fields=self._fields(r.formula)) for r in rows),
            total=self.values["params"],
            active=self.values["active_params"],
            apart=tuple(replace(r, fields=self._fields(r.formula)) for r in apart),
        )

    def _fields(self, name: str) -> str:
        """The config.json fields behind the inputs of formula ``name`` (this model's
        variant), for a model read from a config."""
        if not self.sources:
            return ""
        names = self.formula(name).input_names if name else ("hidden",)
        if name == "mla_attention_params":  # the row without the indexer split off it
            names = tuple(n for n in names if not n.startswith("index_"))
        found = [f for n in names for f in self.sources.get(n, ()) if f != DECLARED]
        return ", ".join(dict.fromkeys(found))

    def _split(self, f: Formula) -> tuple[dict[str, tuple[sympy.Expr, int]], int]:
        """``{component: (coefficient, its value)}`` and the remainder (final norm) of ``f``."""
        overridable = f.overridable_parts()
        keep = {base for base, _ in _COMPONENTS if base in overridable}
        expr = sympy.expand(f.expand(frozenset(keep)))
        subs = {
            s: sympy.Integer(int(self.values[s.name]))
            for s in expr.free_symbols
            if s.name in self.values
        }
        found: dict[str, tuple[sympy.Expr, int]] = {}
        rest = expr
        for base, _ in _COMPONENTS:
            sym = registry[base].symbol
            if sym not in expr.free_symbols:
                continue
            coefficient = sympy.factor(expr.coeff(sym))
            found[base] = (coefficient, int(coefficient.xreplace(subs)))
            rest = rest - coefficient * sym
        rest = sympy.expand(rest)
        return found, int(rest.xreplace(subs))
