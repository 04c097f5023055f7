"""The ``llmphys`` commands that list and show: formulas, symbols, model and accelerator
presets (each with ``--json``), and the output helpers the other commands share."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["cmd_hardware", "cmd_list", "cmd_models", "cmd_show", "print_json", "table"]

EXIT_OK = 0


def _registry():
    from llmphys.user import user_registry

    return user_registry


def _unit(unit) -> str:
    return f"{unit:~P}"


def _unknown(message: str, name: str, candidates: Sequence[str]):
    """An :class:`UnknownNameError` whose message ends with the closest names."""
    from llmphys.errors import UnknownNameError, closest, did_you_mean

    head, _, tail = message.partition("{suggest}")
    return UnknownNameError(
        head + did_you_mean(name, candidates) + tail, name, closest(name, candidates)
    )


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    return str(value)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append((indent + "  ".join([*cells, row[-1]])).rstrip())
    return lines


# ------------------------------------------------------------------------------ commands
def cmd_list(args: argparse.Namespace) -> int:
    """list every formula"""
    from llmphys.units import describe_dimension

    registry = _registry()
    formulas = [registry[name] for name in registry]
    if args.json:
        print_json(
            {
                "formulas": [
                    {
                        "name": f.name,
                        "unit": _unit(f.unit),
                        "dimension": describe_dimension(f.unit),
                        "meaning": f.meaning,
                        "inputs": list(f.input_names),
                        "source": f.source,
                    }
                    for f in formulas
                ]
            }
        )
        return EXIT_OK
    rows = [(f.name, _unit(f.unit) or "-", f.meaning) for f in formulas]
    print("\n".join(table(rows)))
    return EXIT_OK


def _entry_dict(entry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "symbol": {"text": entry.text, "latex": entry.latex},
        "unit": entry.unit_text,
        "dimension": entry.dimension,
        "meaning": entry.meaning,
        "domain": entry.domain,
        "integer": entry.integer,
        "default": entry.default,
        "range": list(entry.range) if entry.range else None,
        "choices": dict(entry.choices) if entry.choices else None,
    }


def _show_symbol(name: str, args: argparse.Namespace) -> int:
    from llmphys.engine.formatting import text_number
    from llmphys.engine.glossary import DOMAINS

    registry = _registry()
    entry = registry.glossary[name]
    users = [f for f in registry if name in registry[f].input_names]
    if args.json:
        print_json({"symbol": _entry_dict(entry), "used_by": users})
        return EXIT_OK
    lines = [f"{entry.name} ({entry.text}): {entry.meaning}", ""]
    rows = [
        ("unit", f"{entry.unit_text or 'plain number'} ({entry.dimension})"),
        ("domain", DOMAINS[entry.domain] + (", a whole number" if entry.integer else "")),
    ]
    if entry.default is not None:
        rows.append(("default", text_number(entry.default, exact=True)))
    if entry.range is not None:
        low, high = (text_number(x, exact=True) for x in entry.range)
        rows.append(("range", f"{low} to {high}"))
    if entry.choices:
        named = (f"{k} = {text_number(v, exact=True)}" for k, v in entry.choices.items())
        rows.append(("names", ", ".join(named)))
    rows.append(("used by", ", ".join(users) or "-"))
    lines += table([(f"{k}:", v) for k, v in rows], "  ")
    print("\n".join(lines))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """show a formula (definition, inputs, rationale) or a symbol"""
    from llmphys.engine.docs import rationale
    from llmphys.units import describe_dimension

    registry = _registry()
    name = args.name
    if name not in registry:
        if name in registry.glossary:
            return _show_symbol(name, args)
        candidates = [*registry, *(e.name for e in registry.glossary.inputs())]
        raise _unknown(
            f"unknown formula or symbol {name!r}{{suggest}} (llmphys list shows every formula)",
            name,
            candidates,
        )
    f = registry[name]
    gloss = f.registry.glossary
    parts = f.overridable_parts()
    notes = rationale(f)
    symbol = f.entry.text
    definition = f"{symbol} = {f.to_text()}"
    expanded = f"{' ' * len(symbol)} = {f.to_text(f.expanded)}" if f.parts else ""
    if args.json:
        print_json(
            {
                "name": f.name,
                "meaning": f.meaning,
                "unit": _unit(f.unit),
                "dimension": describe_dimension(f.unit),
                "symbol": {"text": symbol, "latex": f.entry.latex},
                "definition": {"text": f.to_text(), "latex": f.to_latex()},
                "expanded": {"text": f.to_text(f.expanded), "latex": f.to_latex(f.expanded)},
                "inputs": [_entry_dict(gloss[s.name]) for s in f.inputs],
                "parts": [
                    {"name": n, "unit": _unit(p.unit), "meaning": p.meaning}
                    for n, p in parts.items()
                ],
                "rationale": notes,
                "source": f.source,
            }
        )
        return EXIT_OK
    lines = [f"{f.name}: {f.meaning} [{_unit(f.unit) or 'plain number'}]", "", "Formula"]
    lines.append(f"  {definition}")
    if expanded:
        lines.append(f"  {expanded}")
    lines += ["", "Inputs"]
    rows = []
    for sym in f.inputs:
        entry = gloss[sym.name]
        rows.append((entry.name, entry.text, entry.unit_text or "-", entry.meaning))
    lines += table(rows, "  ")
    if parts:
        lines += ["", "Parts that may be given instead of their inputs"]
        lines += table([(n, _unit(p.unit), p.meaning) for n, p in parts.items()], "  ")
    if notes:
        lines += ["", "Rationale"] + [f"  - {line}" for line in notes]
    if f.source:
        lines += ["", "Source", f"  {f.source}"]
    print("\n".join(lines))
    return EXIT_OK


def _model_rows() -> list[dict[str, Any]]:
    import llmphys

    rows = []
    for name in llmphys.models:
        m = llmphys.models[name]
        rows.append(
            {
                "name": name,
                "display_name": m.display_name,
                "family": m.family,
                "params": m.values["params"],
                "active_params": m.values["active_params"],
                "moe": m.is_moe,
                "attention": m.attention,
                "attention_text": m.attention_text(),
                "features": list(m.features),
                "hf_id": m.hf_id,
                "source": m.source,
                "as_of": m.as_of,
            }
        )
    return rows


def _hardware_rows() -> list[dict[str, Any]]:
    import llmphys

    rows = []
    for name in llmphys.hardware:
        a = llmphys.hardware[name]
        rows.append(
            {
                "name": name,
                "display_name": a.display_name,
                "vendor": a.vendor,
                "memory_type": a.memory_type,
                "capacity": a.capacity.to("byte").magnitude,
                "capacity_label": f"{a.capacity_label:~P}",
                "capacity_text": a.capacity_text(),
                "mem_bandwidth": a.mem_bandwidth.to("byte/second").magnitude,
                "peak_flops": {
                    p: (None if q is None else q.to("FLOP/second").magnitude)
                    for p, q in a.peak.items()
                },
                "source": a.source,
                "as_of": a.as_of,
            }
        )
    return rows


def cmd_models(args: argparse.Namespace) -> int:
    """list the model presets"""
    rows = _model_rows()
    if args.json:
        print_json({"models": rows})
        return EXIT_OK
    found = []
    for r in rows:
        size = f"{r['params'] / 1e9:.4g}B"
        if r["moe"]:
            size += f" ({r['active_params'] / 1e9:.3g}B active)"
        found.append((r["name"], r["display_name"], size, r["attention_text"]))
    print("\n".join(table(found)))
    return EXIT_OK


def cmd_hardware(args: argparse.Namespace) -> int:
    """list the accelerator presets"""
    from llmphys.engine.formatting import format_quantity
    from llmphys.units import Q_

    rows = _hardware_rows()
    if args.json:
        print_json({"hardware": rows})
        return EXIT_OK
    found = []
    for r in rows:
        bandwidth = format_quantity(Q_(r["mem_bandwidth"], "byte/second"))
        peaks = ", ".join(
            f"{format_quantity(Q_(v, 'FLOP/second'))} {p}"
            for p, v in r["peak_flops"].items()
            if v is not None and p in ("bf16", "fp8")
        )
        found.append((r["name"], r["display_name"], r["capacity_text"], bandwidth, peaks))
    print("\n".join(table(found)))
    return EXIT_OK
