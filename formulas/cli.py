"""The ``llmphys`` command: the toolkit's operations without a notebook.

Commands (each takes ``--json`` for scripts)::

    llmphys list                               every formula: name, unit, meaning
    llmphys show NAME                          a formula (definition, inputs with units,
                                               rationale) or a glossary symbol
    llmphys derive NAME [--model M] [--hardware H] [--precision P] [--set k=v ...]
                                               the worked derivation
    llmphys solve NAME --for SYMBOL --target VALUE [--bound B] [--model M] [--hardware H]
                  [--set k=v ...]              the inverse question ("largest seq_len that fits")
    llmphys check "TEXT" [--unit name=unit ...] [--result UNIT]
                                               verify the units of a new formula
    llmphys models                             model presets
    llmphys hardware                           accelerator presets
    llmphys app [--port N] [--no-browser]      the sizing web app (Voilà on 127.0.0.1)

Values (``--set k=v``, ``--target``) are typed as people write them (see
:func:`llmphys.engine.parse.parse_value`): a plain number in the symbol's own unit (``70e9``,
``0.4``), a number with a unit (``80GiB``, ``"80 GB"``, ``"3.35 TB/s"``), a count with a suffix
for dimensionless counts (``32k`` = 32,000, ``32Ki`` = 32,768, ``70B`` = 70 billion; for a
symbol in bytes ``70B`` is 70 bytes), or a precision name (``bf16``).  ``--set`` overrides what
``--model``/``--hardware`` give.

Exit status: 0 on success; 1 when the answer is "no": a unit error (``check`` of a wrong
formula, a value of the wrong dimension) or an infeasible inverse question; 2 on bad usage: a
malformed command line, an unknown formula, symbol, model, accelerator or unit (the closest
names are suggested), formula text outside the whitelist, a missing or malformed value.
Messages go to stderr; with ``--json`` an ``{"error": ...}`` object also goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # as if killed by SIGPIPE, the shell convention


class UsageError(Exception):
    """A command line that parses but cannot be used (``--set`` without ``=``)."""


# ------------------------------------------------------------------------------- helpers
def _registry():
    from llmphys.user import user_registry

    return user_registry


def _unknown(message: str, name: str, candidates: Sequence[str]):
    """An :class:`UnknownNameError` whose message ends with the closest names."""
    from llmphys.errors import UnknownNameError, closest, did_you_mean

    head, _, tail = message.partition("{suggest}")
    return UnknownNameError(
        head + did_you_mean(name, candidates) + tail, name, closest(name, candidates)
    )


def _formula(name: str):
    registry = _registry()
    if name in registry:
        return registry[name]
    raise _unknown(
        f"unknown formula {name!r}{{suggest}} (llmphys list shows every formula)",
        name,
        list(registry),
    )


def _unit(unit) -> str:
    return f"{unit:~P}"


def _pairs(items: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["seq_len=32k", ...]`` as a dict; a later pair overrides an earlier one."""
    found: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} expects NAME=VALUE, got {item!r}")
        found[name.strip()] = value.strip()
    return found


def _known_inputs(formula) -> list[str]:
    return [*formula.input_names, *formula.overridable_parts()]


def _values(formula, texts: Mapping[str, str]) -> dict[str, Any]:
    """``--set`` texts parsed for ``formula``'s inputs (and parts that may be given)."""
    from llmphys.engine.parse import parse_value

    gloss = formula.registry.glossary
    known = _known_inputs(formula)
    values: dict[str, Any] = {}
    for name, text in texts.items():
        if name not in known:
            raise _unknown(
                f"formula '{formula.name}': unknown input {name!r}{{suggest}} "
                f"(inputs: {', '.join(formula.input_names)})",
                name,
                known,
            )
        values[name] = parse_value(text, gloss[name], f"--set {name}")
    return values


def _presets(
    args: argparse.Namespace, formula, given: Sequence[str] = ()
) -> tuple[Any, dict[str, Any]]:
    """The formula as ``--model`` builds it, and the values ``--model``/``--hardware`` give.

    ``given`` names parts the command line gives directly (their inputs are left out).
    """
    import llmphys

    values: dict[str, Any] = {}
    model_name = getattr(args, "model", None)
    hardware_name = getattr(args, "hardware", None)
    if getattr(args, "precision", None) and not hardware_name:
        raise UsageError("--precision chooses the peak FLOP rate of --hardware; give --hardware")
    if model_name:
        model = llmphys.models[model_name]
        if formula.name in llmphys.registry:  # the architecture's variant of a built-in
            formula = model.formula(formula.name)
        values.update(model.inputs_for(formula, given=given))
    if hardware_name:
        accelerator = llmphys.hardware[hardware_name]
        precision = {"precision": args.precision} if args.precision else {}
        values.update(accelerator.inputs_for(formula, given=given, **precision))
    return formula, values


def _given_parts(formula, texts: Mapping[str, str]) -> list[str]:
    parts = formula.overridable_parts()
    return [name for name in texts if name in parts]


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


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def _table(rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
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
    from llmphys.units import describe_dimension

    registry = _registry()
    formulas = [registry[name] for name in registry]
    if args.json:
        _print_json(
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
    print("\n".join(_table(rows)))
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
    from llmphys.engine.glossary import DOMAINS
    from llmphys.engine.numbers import text_number

    registry = _registry()
    entry = registry.glossary[name]
    users = [f for f in registry if name in registry[f].input_names]
    if args.json:
        _print_json({"symbol": _entry_dict(entry), "used_by": users})
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
    lines += _table([(f"{k}:", v) for k, v in rows], "  ")
    print("\n".join(lines))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
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
        _print_json(
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
    lines += _table(rows, "  ")
    if parts:
        lines += ["", "Parts that may be given instead of their inputs"]
        lines += _table([(n, _unit(p.unit), p.meaning) for n, p in parts.items()], "  ")
    if notes:
        lines += ["", "Rationale"] + [f"  - {line}" for line in notes]
    if f.source:
        lines += ["", "Source", f"  {f.source}"]
    print("\n".join(lines))
    return EXIT_OK


def cmd_derive(args: argparse.Namespace) -> int:
    from llmphys.engine.derive import derive

    texts = _pairs(args.set, "--set")
    formula = _formula(args.name)
    formula, values = _presets(args, formula, _given_parts(formula, texts))
    values.update(_values(formula, texts))

    derivation = derive(formula, explain=args.explain, binary=args.binary, **values)
    if args.json:
        _print_json(derivation.to_dict())
    else:
        print(derivation)
    return EXIT_OK


def cmd_solve(args: argparse.Namespace) -> int:
    import llmphys
    from llmphys.engine.parse import parse_value

    texts = _pairs(args.set, "--set")
    formula = _formula(args.name)
    formula, values = _presets(args, formula, _given_parts(formula, texts))
    unknown = args.unknown
    if unknown not in formula.input_names:
        raise _unknown(
            f"formula '{formula.name}': cannot solve for {unknown!r}, which is not one of its "
            f"inputs{{suggest}} (inputs: {', '.join(formula.input_names)})",
            unknown,
            list(formula.input_names),
        )
    if unknown in texts:
        raise UsageError(f"--set gives {unknown}, the symbol to solve for; drop it")
    values.pop(unknown, None)  # a preset's value for the unknown is what is being solved for
    values.update(_values(formula, texts))
    target = parse_value(args.target, formula.entry, "--target")
    extra = {"bound": args.bound} if args.bound else {}
    solution = llmphys.solve(formula, unknown, target=target, **extra, **values)
    if args.json:
        _print_json(solution.to_dict())
    else:
        print(solution)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from llmphys.check import analyse, compare_result, describe

    units = _pairs(args.unit, "--unit")
    analysis = analyse(args.text, units, _registry())
    got = analysis.unit()
    unit = compare_result(analysis, got, args.result) if args.result is not None else got
    shown = analysis.show(analysis.expr)
    if args.json:
        _print_json({"ok": True, "expression": shown, **describe(unit)})
        return EXIT_OK
    info = describe(unit)
    declared = " (as declared)" if args.result is not None else ""
    print(f"ok: {shown} is in {info['unit']}{declared}, dimension {info['dimension']}")
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
    rows = _model_rows()
    if args.json:
        _print_json({"models": rows})
        return EXIT_OK
    table = []
    for r in rows:
        size = f"{r['params'] / 1e9:.4g}B"
        if r["moe"]:
            size += f" ({r['active_params'] / 1e9:.3g}B active)"
        table.append((r["name"], r["display_name"], size, r["attention_text"]))
    print("\n".join(_table(table)))
    return EXIT_OK


def cmd_hardware(args: argparse.Namespace) -> int:
    from llmphys.engine.numbers import format_quantity
    from llmphys.units import Q_

    rows = _hardware_rows()
    if args.json:
        _print_json({"hardware": rows})
        return EXIT_OK
    table = []
    for r in rows:
        bandwidth = format_quantity(Q_(r["mem_bandwidth"], "byte/second"))
        peaks = ", ".join(
            f"{format_quantity(Q_(v, 'FLOP/second'))} {p}"
            for p, v in r["peak_flops"].items()
            if v is not None and p in ("bf16", "fp8")
        )
        table.append((r["name"], r["display_name"], r["capacity_text"], bandwidth, peaks))
    print("\n".join(_table(table)))
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    from llmphys.app import voila_command

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535; got {args.port}")
    if importlib.util.find_spec("voila") is None:
        raise UsageError('the app needs Voilà: pip install "llmphys[app]"')
    command = voila_command(args.port, open_browser=not args.no_browser)
    print(f"llmphys app: serving on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)")
    print("  " + " ".join(command), flush=True)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return EXIT_OK


# -------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmphys",
        description="The physics of LLM inference: formulas, derivations, inverse questions "
        "and unit checks.",
        epilog="Exit status: 0 success, 1 unit error or infeasible question, 2 bad usage. "
        "Values: 80GB, '80 GiB', '3.35 TB/s', 32k (32,000), 32Ki (32,768), 70B (70e9 for a "
        "count), bf16.",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help: str):
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(run=fn)
        return p

    add("list", cmd_list, "list every formula")
    p = add("show", cmd_show, "show a formula (definition, inputs, rationale) or a symbol")
    p.add_argument("name", metavar="NAME")

    def presets(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", metavar="M", help="take inputs from a model preset")
        p.add_argument("--hardware", metavar="H", help="take inputs from an accelerator preset")
        p.add_argument("--precision", metavar="P", help="compute precision for --hardware")
        p.add_argument(
            "--set",
            metavar="NAME=VALUE",
            action="append",
            help="an input value (repeatable): seq_len=32k, gpu_memory='80 GiB', "
            "bytes_per_param=bf16",
        )

    p = add("derive", cmd_derive, "the worked derivation of a formula")
    p.add_argument("name", metavar="NAME")
    presets(p)
    p.add_argument("--explain", action="store_true", help="add each formula's rationale")
    p.add_argument("--binary", action="store_true", help="show memory in GiB rather than GB")

    p = add("solve", cmd_solve, "solve a formula for one input, given a target value")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--for", dest="unknown", metavar="SYMBOL", required=True)
    p.add_argument("--target", metavar="VALUE", required=True, help="e.g. '80 GB'")
    p.add_argument(
        "--bound",
        choices=["at_most", "at_least", "equal"],
        help="the target is a budget (at_most, the default), a requirement (at_least) or exact",
    )
    presets(p)

    p = add("check", cmd_check, "check the units of a formula written as text")
    p.add_argument("text", metavar="TEXT", help="e.g. 'params * bits_per_param * byte / (8*bit)'")
    p.add_argument(
        "--unit",
        metavar="NAME=UNIT",
        action="append",
        help="the unit of one of your own inputs (repeatable): bits_per_param=bit/parameter",
    )
    p.add_argument("--result", metavar="UNIT", help="the unit the result must have")

    add("models", cmd_models, "list the model presets")
    add("hardware", cmd_hardware, "list the accelerator presets")

    p = add("app", cmd_app, "serve the sizing web app with Voilà, on 127.0.0.1 only")
    p.add_argument("--port", type=int, default=8866, metavar="N", help="port (default 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


def _error_json(exc: BaseException, code: int) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc), "exit_code": code}
    terms = getattr(exc, "terms", None)
    if terms:
        data["terms"] = [{"term": t, "unit": u, "dimension": d} for t, u, d in terms]
    suggestions = getattr(exc, "suggestions", None)
    if suggestions:
        data["suggestions"] = list(suggestions)
    return {"error": data}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``llmphys`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with status 2 on a malformed command line
    from llmphys.errors import InfeasibleError, LlmphysError, UnitError

    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (llmphys list | head): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (UnitError, InfeasibleError) as exc:
        code, error = EXIT_NO, exc
    except (LlmphysError, UsageError) as exc:
        code, error = EXIT_USAGE, exc
    if args.json:
        _print_json(_error_json(error, code))
    print(f"llmphys {args.command}: error: {error}", file=sys.stderr)
    return code
