"""The ``llmphys`` command: the toolkit's operations without a notebook.

Commands (each takes ``--json`` for scripts)::

    llmphys list                               every formula: name, unit, meaning
    llmphys show NAME                          a formula (definition, inputs with units,
                                               rationale) or a glossary symbol
    llmphys derive NAME [DEPLOYMENT] [--set k=v ...]
                                               the worked derivation
    llmphys solve NAME --for SYMBOL --target VALUE [--bound B] [DEPLOYMENT] [--set k=v ...]
                                               the inverse question ("largest seq_len that fits")
    llmphys scenario [DEPLOYMENT] [--inputs]   a deployment at a glance
    llmphys check "TEXT" [--unit name=unit ...] [--result UNIT]
                                               verify the units of a new formula
    llmphys models                             model presets
    llmphys hardware                           accelerator presets
    llmphys app [--port N] [--no-browser] [--cull-idle S]
                                               the sizing web app (Voilà on 127.0.0.1)

DEPLOYMENT is any of ``--model --hardware --assume --weights --kv --compute --tp --pp --ep
--batch --prompt-len --output-len --interconnect`` (:mod:`llmphys.cli_scenario`): with any of
them the figure is a :class:`~llmphys.Scenario`'s, every input filled (the same defaults as the
app and the Python API) and each value's provenance shown.  Without them a bare formula is
derived or solved from ``--set`` values alone (inputs left out stay symbols).

Values (``--set k=v``, ``--target``) are typed as people write them (see
:func:`llmphys.engine.parse.parse_value`): a plain number in the symbol's own unit (``70e9``,
``0.4``), a number with a unit (``80GiB``, ``"80 GB"``, ``"3.35 TB/s"``), a count with a suffix
(``70B`` = 70 billion, ``32Ki`` = 32,768; a token count reads ``32k`` as 32,768, as context
lengths are quoted, and the command says how it read it; for a symbol in bytes ``70B`` is 70
bytes), or a precision name (``bf16``).  ``--set`` wins over what the deployment gives.

Exit status: 0 on success; 1 when the answer is "no": a unit error (``check`` of a wrong
formula, a value of the wrong dimension) or an infeasible inverse question; 2 on bad usage: a
malformed command line, an unknown formula, symbol, model, accelerator or unit (the closest
names are suggested), formula text outside the whitelist, a missing or malformed value.
Messages go to stderr; with ``--json`` an ``{"error": ...}`` object also goes to stdout.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from llmphys.app.server import CULL_IDLE
from llmphys.cli_calibration import add_calibration_commands
from llmphys.cli_listing import (
    _registry,
    _unknown,
    cmd_hardware,
    cmd_list,
    cmd_models,
    cmd_show,
    print_json,
)
from llmphys.cli_scenario import (
    UsageError,
    add_scenario_options,
    check_used,
    deployment,
    pairs,
    read,
    scenario,
)
from llmphys.cli_serving import add_serving_commands
from llmphys.errors import UnknownNameError

__all__ = ["main"]

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # as if killed by SIGPIPE, the shell convention


def _formula(name: str):
    registry = _registry()
    if name in registry:
        return registry[name]
    raise _unknown(
        f"unknown formula {name!r}{{suggest}} (llmphys list shows every formula)",
        name,
        list(registry),
    )


def _bare_values(formula, texts: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """``--set`` texts for a bare formula: its inputs and the parts that may be given."""
    known = [*formula.input_names, *formula.overridable_parts()]
    try:
        return read(texts, known, f"formula '{formula.name}'")
    except UnknownNameError as exc:
        raise UnknownNameError(
            f"{exc} (inputs: {', '.join(formula.input_names)})", exc.name, exc.suggestions
        ) from None


def _figure(args: argparse.Namespace, texts: dict[str, str]) -> tuple[Any, Any, list[str]]:
    """The formula asked about, and the deployment (a Scenario, or None for a bare formula)."""
    formula = _formula(args.name)
    s, echo = scenario(args, texts)
    if s is None:
        return formula, None, echo
    if args.name not in _builtin():
        raise UsageError(
            f"{args.name} is a formula of your own: a deployment's figures are the built-in "
            "formulas; give its inputs with --set instead of deployment options"
        )
    return formula, s, echo


def _builtin():
    from llmphys.engine import registry

    return registry


def _echo(echo: list[str], args: argparse.Namespace) -> None:
    if echo and not args.json:
        print("\n".join(echo) + "\n")


def _answer(args: argparse.Namespace, echo: list[str], answer: Any) -> int:
    """Print a derivation or a solution (its dict as JSON with ``--json``), after how the
    values were read."""
    _echo(echo, args)
    if args.json:
        print_json(answer.to_dict())
    else:
        print(answer)
    return EXIT_OK


def cmd_derive(args: argparse.Namespace) -> int:
    """the worked derivation of a formula"""
    from llmphys.engine.derive import derive

    texts = pairs(args.set, "--set")
    formula, s, echo = _figure(args, texts)
    if s is None:
        values, echo = _bare_values(formula, texts)
        derivation = derive(formula, explain=args.explain, binary=args.binary, **values)
    else:
        check_used(s, args.name, texts)
        derivation = s.derive(args.name, explain=args.explain, binary=args.binary)
    return _answer(args, echo, derivation)


def cmd_solve(args: argparse.Namespace) -> int:
    """solve a formula for one input, given a target value"""
    import llmphys
    from llmphys.engine.parse import parse_value

    texts = pairs(args.set, "--set")
    unknown = args.unknown
    if unknown in texts:
        raise UsageError(f"--set gives {unknown}, the symbol to solve for; drop it")
    formula, s, echo = _figure(args, texts)
    if s is not None:
        check_used(s, args.name, texts)
        formula = s.formula(args.name)
    if unknown not in formula.input_names:
        raise _unknown(
            f"formula '{formula.name}': cannot solve for {unknown!r}, which is not one of its "
            f"inputs{{suggest}} (inputs: {', '.join(formula.input_names)})",
            unknown,
            list(formula.input_names),
        )
    target = parse_value(args.target, formula.entry, "--target")
    if s is None:
        values, echo = _bare_values(formula, texts)
        extra = {"bound": args.bound} if args.bound else {}
        solution = llmphys.solve(formula, unknown, target=target, **extra, **values)
    else:
        solution = s.solve(unknown, target, of=args.name, bound=args.bound)
    return _answer(args, echo, solution)


def cmd_scenario(args: argparse.Namespace) -> int:
    """a deployment at a glance: memory per GPU and fit, largest context and batch, fewest GPUs,
    TTFT, TPOT, tokens/s per user and per GPU"""
    s, echo = deployment(args)
    _echo(echo, args)
    if args.json:
        data = s.to_dict()
        if args.inputs:
            data["inputs"] = {
                n: {"value": s.value(n), "source": s.source(n)} for n in s.inputs().sources
            }
        print_json(data)
        return EXIT_OK
    print(s.summary())
    if args.inputs:
        print("\nInputs\n" + str(s.inputs()))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """check the units of a formula written as text"""
    from llmphys.check import analyse, compare_result, describe

    units = pairs(args.unit, "--unit")
    analysis = analyse(args.text, units, _registry())
    got = analysis.unit()
    unit = compare_result(analysis, got, args.result) if args.result is not None else got
    shown = analysis.show(analysis.expr)
    if args.json:
        print_json({"ok": True, "expression": shown, **describe(unit)})
        return EXIT_OK
    info = describe(unit)
    declared = " (as declared)" if args.result is not None else ""
    print(f"ok: {shown} is in {info['unit']}{declared}, dimension {info['dimension']}")
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    """serve the sizing web app with Voilà, on 127.0.0.1 only"""
    import importlib.util

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535; got {args.port}")
    if not (args.cull_idle >= 0 and math.isfinite(args.cull_idle)):
        raise UsageError(
            f"--cull-idle must be 0 (never) or a number of seconds; got {args.cull_idle}"
        )
    if importlib.util.find_spec("voila") is None:
        raise UsageError('the app needs Voilà: pip install "llmphys[app]"')
    from llmphys.app.server import free_port, port_free, serve

    if not port_free(args.port):
        raise UsageError(
            f"port {args.port} on 127.0.0.1 is taken (another server holds it); pick another, "
            f"e.g. --port {free_port()}"
        )
    print(f"llmphys app: serving on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)", flush=True)
    try:
        return serve(args.port, open_browser=not args.no_browser, cull_idle=args.cull_idle)
    except KeyboardInterrupt:
        return EXIT_OK


# -------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmphys",
        description="The physics of LLM inference: formulas, derivations, inverse questions "
        "and unit checks.",
        epilog="Exit status: 0 success, 1 unit error or infeasible question, 2 bad usage. "
        "Values: 80GB, '80 GiB', '3.35 TB/s', 32k (32,768 for a token count), 32Ki (32,768), "
        "70B (70e9 for a count), bf16.",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        """The parser of the command ``fn`` runs: ``cmd_<name>`` runs ``llmphys <name>``, and
        its docstring is the command's help."""
        text = " ".join((fn.__doc__ or "").split())
        p = sub.add_parser(fn.__name__.removeprefix("cmd_"), parents=[common], help=text,
                           description=text)  # fmt: skip
        p.set_defaults(run=fn)
        return p

    add(cmd_list)
    p = add(cmd_show)
    p.add_argument("name", metavar="NAME")

    p = add(cmd_derive)
    p.add_argument("name", metavar="NAME")
    add_scenario_options(p)
    p.add_argument("--explain", action="store_true", help="add each formula's rationale")
    p.add_argument("--binary", action="store_true", help="show memory in GiB rather than GB")

    p = add(cmd_solve)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--for", dest="unknown", metavar="SYMBOL", required=True)
    p.add_argument("--target", metavar="VALUE", required=True, help="e.g. '80 GB'")
    p.add_argument(
        "--bound",
        choices=["at_most", "at_least", "equal"],
        help="the target is a budget (at_most), a requirement (at_least) or exact; default: "
        "at_least for a rate (tokens/s), at_most otherwise",
    )
    add_scenario_options(p)

    p = add(cmd_check)
    p.add_argument("text", metavar="TEXT", help="e.g. 'params * bits_per_param * byte / (8*bit)'")
    p.add_argument(
        "--unit",
        metavar="NAME=UNIT",
        action="append",
        help="the unit of one of your own inputs (repeatable): bits_per_param=bit/parameter",
    )
    p.add_argument("--result", metavar="UNIT", help="the unit the result must have")

    p = add(cmd_scenario)
    add_scenario_options(p)
    p.add_argument("--inputs", action="store_true", help="every input with where it came from")

    add_serving_commands(add)
    add_calibration_commands(add)

    add(cmd_models)
    add(cmd_hardware)

    p = add(cmd_app)
    p.add_argument("--port", type=int, default=8866, metavar="N", help="port (default 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--cull-idle",
        type=float,
        default=CULL_IDLE,
        metavar="SECONDS",
        help=f"shut down a kernel no page is connected to after this long idle (default "
        f"{CULL_IDLE}; 0 keeps them)",
    )
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
    """Run the ``llmphys`` command.

    Parameters
    ----------
    argv
        The arguments after ``llmphys`` (default: the command line's).

    Returns
    -------
    int
        The exit status: 0 done, 1 a unit error or an infeasible question, 2 a usage error
        (argparse exits with 2 itself on a malformed command line), 141 when the reader of
        the output went away.
    """
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
        print_json(_error_json(error, code))
    print(f"llmphys {args.command}: error: {error}", file=sys.stderr)
    return code
