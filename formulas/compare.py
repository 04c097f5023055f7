"""The seed's simplifications beside the real architecture, quantity by quantity.

The seed computes everything from four numbers (parameters, layers, hidden width, precision)
and three simplifications:

1. full multi-head attention: every layer caches K and V of width ``hidden``
   (``kv_bytes_per_token_mha``), and attention scores and values span ``hidden``;
2. no sliding windows: every layer caches and attends to the whole context;
3. every parameter is active for every token (the dense reading).  The seed's MoE section does
   use active parameters; applied to a mixture of experts' total, its forward-pass formulas give
   the "total params used as active" error of many calculators, shown here as such.

:func:`seed_vs_real` evaluates the same registry formulas twice: once with those
simplifications, once as this model's architecture rebinds them (``Model.formula``), and names
the assumption that differs on each row.  Neither number is adjusted: the seed's stays the
seed's.

>>> import llmphys as F
>>> c = F.seed_vs_real("llama-3.1-70b", seq_len=10000)
>>> row = c["kv_cache_bytes"]
>>> print(f"{row.seed.to('GB'):.3g~P} vs {row.real.to('GB'):.3g~P}: {row.ratio:.1f}x")
26.2 GB vs 3.28 GB: 8.0x
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pint

from llmphys.engine import Formula, registry
from llmphys.errors import UnknownNameError, did_you_mean
from llmphys.presets import Model, models

__all__ = ["Comparison", "Row", "seed_formula", "seed_vs_real"]

#: quantity label, formula name, display unit; in reading order
QUANTITIES: tuple[tuple[str, str, str], ...] = (
    ("KV cache per token", "kv_bytes_per_token", "kB/token"),
    ("KV cache", "kv_cache_bytes", "GB"),
    ("total VRAM", "total_vram", "GB"),
    ("weights read per decoded token", "weight_read", "GB/token"),
    ("HBM bytes per decoded token", "bytes_per_token", "GB/token"),
    ("decode FLOPs per token", "decode_flops", "GFLOP/token"),
    ("prefill FLOPs", "prefill_flops", "PFLOP"),
)


@dataclass(frozen=True)
class Row:
    """One quantity, as the seed computes it and as the real architecture gives it."""

    quantity: str
    formula: str
    seed: pint.Quantity
    real: pint.Quantity
    seed_assumption: str
    real_assumption: str
    seed_formula: Formula
    real_formula: Formula

    @property
    def ratio(self) -> float:
        """Seed over real (8.0: the seed's number is 8x the real one)."""
        return float((self.seed / self.real).to("").magnitude)

    @property
    def differs(self) -> bool:
        return abs(self.ratio - 1) > 1e-9


@dataclass(frozen=True)
class Comparison:
    """Rows of :func:`seed_vs_real`; index by formula name, iterate, or print as a table."""

    model: str
    conditions: str
    rows: tuple[Row, ...]

    def __getitem__(self, formula: str) -> Row:
        for row in self.rows:
            if row.formula == formula:
                return row
        names = [r.formula for r in self.rows]
        raise UnknownNameError(
            f"no row for {formula!r}{did_you_mean(formula, names)} (rows: {', '.join(names)})",
            formula,
        )

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self) -> list[tuple[str, str, str, str, str]]:
        units = {name: unit for _, name, unit in QUANTITIES}
        cells = []
        for r in self.rows:
            unit = units.get(r.formula)
            seed, real = (r.seed.to(unit), r.real.to(unit)) if unit else (r.seed, r.real)
            assumption = (
                f"seed: {r.seed_assumption}; real: {r.real_assumption}" if r.differs else "same"
            )
            cells.append(
                (r.quantity, f"{seed:.4g~P}", f"{real:.4g~P}", f"{r.ratio:.3g}x", assumption)
            )
        return cells

    def __str__(self) -> str:
        head = ("quantity", "seed", "real", "seed/real", "what differs")
        body = self._cells()
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(4)]
        lines = [f"{self.model}, {self.conditions}: the seed's simplifications vs the model"]
        for i, row in enumerate([head, *body]):
            first = [
                row[0].ljust(widths[0]),
                *(c.rjust(w) for c, w in zip(row[1:4], widths[1:], strict=True)),
            ]
            lines.append("  ".join([*first, row[4]]))
            if i == 0:
                lines.append("  ".join("-" * w for w in [*widths, len(head[4])]))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [
            f"**{self.model}**, {self.conditions}: the seed's simplifications vs the model",
            "",
            "| quantity | seed | real | seed/real | what differs |",
            "|---|---:|---:|---:|---|",
        ]
        lines += [f"| {' | '.join(c)} |" for c in self._cells()]
        return "\n".join(lines)


def seed_formula(name: str) -> Formula:
    """The registry formula ``name`` under the seed's simplifications: full multi-head KV
    (width = hidden) wherever a KV part appears; attention and parameters as the seed writes
    them."""
    mha = registry["kv_bytes_per_token_mha"]
    if name == "kv_bytes_per_token":
        return mha
    f = registry[name]
    if "kv_bytes_per_token" in {g.name for g, _ in f.chain()}:
        return f.with_parts(kv_bytes_per_token=mha)
    return f


def _assumptions(model: Model, seq_len: int) -> dict[str, tuple[str, str]]:
    v = model.values
    hidden, layers = v["hidden"], v["layers"]
    seed_kv = f"MHA: K and V {hidden:,} wide (= hidden) in all {layers:,} layers"
    if model.has_sliding_window:
        seed_kv += ", no window"
    real_kv = model.attention_text()
    if model.has_sliding_window:
        real_kv += f" (average per token of a {seq_len:,}-token context)"
    if model.attention == "MLA":
        width = f"{v['n_heads']:,} heads x ({v['qk_nope_head_dim']} + {v['qk_rope_head_dim']})"
    else:
        width = f"{v['n_heads']:,} heads x {v['head_dim']:,} = {v['n_heads'] * v['head_dim']:,}"
    seed_attn = f"attention {hidden:,} wide (= hidden) over the whole context"
    real_attn = f"attention {width}"
    if model.has_sliding_window:
        real_attn += f"; {v['local_layers']:,} local layers attend to <= {v['sliding_window']:,}"
    seed_n = f"all {v['params']:,.0f} parameters active"
    what = (
        "k of E experts, embedding lookup excluded" if model.is_moe else "embedding lookup excluded"
    )
    real_n = f"{v['active_params']:,.0f} active ({what})"
    return {
        "kv": (seed_kv, real_kv),
        "compute": (f"{seed_n}; {seed_attn}", f"{real_n}; {real_attn}"),
        "weights": (seed_n, real_n),
        "bytes": (f"{seed_n}; {seed_kv}", f"{real_n}; {real_kv}"),
    }


_KIND = {
    "kv_bytes_per_token": "kv",
    "kv_cache_bytes": "kv",
    "total_vram": "kv",
    "weight_read": "weights",
    "bytes_per_token": "bytes",
    "decode_flops": "compute",
    "prefill_flops": "compute",
}


def seed_vs_real(
    model: Model | str,
    seq_len: int = 10000,
    batch: int = 1,
    precision: str | float = "bf16",
    kv_precision: str | float | None = None,
    workspace_fraction: float = 0.12,
) -> Comparison:
    """The seed's numbers and the real architecture's, side by side, for ``model``.

    ``seq_len`` is the context (cached tokens, the decode context and the prompt length),
    ``precision`` the weights' and ``kv_precision`` the KV cache's (default: the same).
    Rows: KV cache per token and in total, total VRAM, weight and HBM bytes per decoded token,
    decode and prefill FLOPs; each with the seed's assumption and the real one.

    Parameters
    ----------
    model
        A model preset's name or a :class:`~llmphys.presets.Model`.
    seq_len
        The context, in tokens.
    batch
        Concurrent sequences.
    precision
        The weights' precision: a name or bytes per parameter.
    kv_precision
        The KV cache's precision (default: the weights').
    workspace_fraction
        The workspace, as a fraction of the weights.

    Returns
    -------
    llmphys.compare.Comparison
        One row per quantity: both values, their ratio and both assumptions (a table).
    """
    from llmphys.scenario import Scenario

    m = models[model] if isinstance(model, str) else model
    kv = precision if kv_precision is None else kv_precision
    # the real side is a deployment: the context prefilled as the prompt and decoded at its
    # full length (no output yet), the seed's full S x S count on both sides (not an
    # architecture); the hardware plays no part in these rows
    real = Scenario(
        m,
        weights=precision,
        kv=kv,
        batch=batch,
        prompt_len=seq_len,
        output_len=0,
        assumptions="seed",
        workspace_fraction=workspace_fraction,
        causal_factor=1,
    )
    # the seed's side: the same values, every parameter active
    seed_values = {**real.values(), "active_params": m.values["params"]}
    assumptions = _assumptions(m, seq_len)
    rows = []
    for label, name, _ in QUANTITIES:
        seed_f = seed_formula(name)
        real_name = name
        if name == "kv_bytes_per_token" and m.has_sliding_window:
            real_name = "kv_bytes_per_token_windowed"
        real_f = real.formula(real_name)
        seed_text, real_text = assumptions[_KIND[name]]
        rows.append(
            Row(
                quantity=label,
                formula=name,
                seed=seed_f(**seed_f.takes(seed_values)),
                real=real.evaluate(real_name),
                seed_assumption=seed_text,
                real_assumption=real_text,
                seed_formula=seed_f,
                real_formula=real_f,
            )
        )
    kv_text = kv if isinstance(kv, str) else f"{kv} B/element"
    w_text = precision if isinstance(precision, str) else f"{precision} B/parameter"
    conditions = f"context {seq_len:,} tokens, batch {batch:,}, weights {w_text}, KV {kv_text}"
    return Comparison(model=m.display_name, conditions=conditions, rows=tuple(rows))
