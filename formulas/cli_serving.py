"""The command line's serving questions: ``llmphys frontier`` (tokens/s per GPU against
tokens/s per user), ``llmphys search`` (a design space on Dask, its Pareto set) and
``llmphys disaggregate`` (prefill and decode pools for a request mix).  Each prints a table,
or ``--json`` / ``--csv``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from llmphys.cli_listing import print_json
from llmphys.cli_scenario import UsageError, add_scenario_options, deployment, pairs, read
from llmphys.scenario_inputs import glossary_name

__all__ = ["add_serving_commands", "cmd_disaggregate", "cmd_frontier", "cmd_search"]

EXIT_OK = 0


def _scenario(args: argparse.Namespace) -> Any:
    """The deployment of the command line, its reading echoed unless the output is JSON."""
    s, echo = deployment(args)
    if echo and not args.json:
        print("\n".join(echo) + "\n")
    return s


def _number(text: str, option: str = "--over", name: str | None = None) -> float:
    """A number; for a glossary input ``name``, as that input reads text (``32k`` tokens)."""
    if name is not None:
        from llmphys.engine import glossary
        from llmphys.engine.coercion import coerce
        from llmphys.engine.parse import parse_value

        entry = glossary[name]
        return float(coerce(entry, parse_value(text, entry, option), option))
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a number") from None


def _numbers(text: str | None, option: str, name: str | None = None) -> list[float] | None:
    """``"1,2,4"`` as numbers; a range ``"1..256"`` as its powers of two; for a glossary input
    ``name``, each as it reads text (``32k,64k`` tokens)."""
    if text is None:
        return None
    if ".." in text:
        first, _, last = text.partition("..")
        low, high = _number(first, option, name), _number(last, option, name)
        if not 1 <= low <= high:
            raise UsageError(f"{option}: {text!r} is not a range LO..HI with 1 <= LO <= HI")
        out, x = [], low
        while x <= high:
            out.append(x)
            x *= 2
        return out
    found = [_number(t.strip(), option, name) for t in text.split(",") if t.strip()]
    if not found:
        raise UsageError(f"{option}: give at least one value")
    return found


#: the search's axes that are token counts: read as context lengths are quoted (32k = 32,768)
_TOKENS = ("prompt_len", "output_len")


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _table(args: argparse.Namespace, table: Any, meta: dict[str, Any], key: str = "points") -> bool:
    """Print ``table`` as CSV, or as JSON under ``key`` beside ``meta``, when asked; True if
    printed."""
    if getattr(args, "csv", False):
        print(table.to_csv(index=False), end="")
        return True
    if args.json:
        print_json({**meta, key: table.to_dict(orient="records")})
        return True
    return False


# ----------------------------------------------------------------------------- frontier
def cmd_frontier(args: argparse.Namespace) -> int:
    """the throughput / interactivity frontier: tokens/s per GPU against tokens/s per user over the
    batch and any layout or precision, memory-capped, with its Pareto set"""
    from llmphys.serving import CHOICES, frontier

    s = _scenario(args)
    over: dict[str, list[Any] | None] = {}  # None: the axis on its default grid
    for item in args.over or ["batch"]:
        name, _, values = (part.strip() for part in item.partition("="))
        texts = [v.strip() for v in values.split(",") if v.strip()]
        over[name] = (
            None if not values else texts if name in CHOICES else [_number(t) for t in texts]
        )
    front = frontier(s, over=over)
    if not args.all:
        front.fitting()  # none fits: say so, not an empty table
    table = front.points if args.all else front.pareto
    if _table(args, table, {"scenario": s.to_dict()["title"], "axes": list(front.axes)}):
        return EXIT_OK
    print(f"{s.summary().title}\nthe Pareto set over {', '.join(front.axes)} (points that fit "
          "in memory; --all for every point)")  # fmt: skip
    print(front if not args.all else table.to_string(index=False))
    if args.floor is not None:
        best = front.best_at(args.floor)
        per_gpu = best["tokens_per_second_per_gpu"]
        print(f"\nmost tokens/s per GPU with at least {args.floor:g} tok/s per user: "
              f"{per_gpu:,.0f} at batch {best['batch']:,.0f}")  # fmt: skip
    return EXIT_OK


# ----------------------------------------------------------------------------- search
def _objective(text: str) -> tuple[str, str]:
    name, _, direction = text.partition(":")
    if direction not in ("min", "max"):
        raise UsageError(f"--objective {text!r}: write FIGURE:min or FIGURE:max")
    return name.strip(), direction


def cmd_search(args: argparse.Namespace) -> int:
    """a design space (models x accelerators x precisions x layouts x batches x workloads) evaluated
    on Dask: the Pareto set of two objectives among the points that fit"""
    from llmphys.design_space import search

    values: dict[str, float] = {}
    if args.set:
        from llmphys.engine import glossary
        from llmphys.engine.coercion import coerce

        parsed, echo = read(pairs(args.set, "--set"), [e.name for e in glossary.inputs()],
                            "--set")  # fmt: skip
        values = {n: float(coerce(glossary[n], v, "--set")) for n, v in parsed.items()}
        if echo and not args.json:
            print("\n".join(echo) + "\n")
    grid = {
        key: found
        for key, option in (("tp", "--tp"), ("pp", "--pp"), ("ep", "--ep"), ("batch", "--batch"),
                            ("prompt_len", "--prompt-len"), ("output_len", "--output-len"))
        if (found := _numbers(getattr(args, key), option,
                              glossary_name(key) if key in _TOKENS else None)) is not None
    }  # fmt: skip
    grid = {k: [int(v) if float(v).is_integer() else v for v in vs] for k, vs in grid.items()}
    objectives = [_objective(t) for t in args.objective] if args.objective else None
    client = None
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give a number of processes of at least 1")
    if args.workers:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    try:
        found = search(
            models=_names(args.models) or ["llama-3.1-70b"],
            hardware=_names(args.hardware) or ["h100-sxm"],
            weights=_names(args.weights),
            kv=_names(args.kv) or "bf16",
            **grid,
            **({"objectives": objectives} if objectives else {}),
            client=client,
            chunk_points=args.chunk_points,
            **values,
        )
    finally:
        if client is not None:
            client.close()
            cluster.close()
    table = found.pareto
    meta = {"points": found.points, "objectives": [list(o) for o in found.objectives],
            "chunk_points": found.chunk_points}  # fmt: skip
    if _table(args, table, meta, key="pareto"):
        return EXIT_OK
    goals = " and ".join(f"{'least' if d == 'min' else 'most'} {n}" for n, d in found.objectives)
    print(f"{found.points:,} design points; the Pareto set ({len(table)} points that fit and "
          f"no other beats on {goals}):")  # fmt: skip
    print(table.to_string(index=False))
    return EXIT_OK


# ----------------------------------------------------------------------------- disaggregate
def cmd_disaggregate(args: argparse.Namespace) -> int:
    """disaggregated prefill and decode: the GPUs of each pool for a request rate under a TTFT and a
    TPOT target, and the P:D ratio"""
    from llmphys.pd_sizing import disaggregate

    s = _scenario(args)
    tp = _numbers(args.tp_options, "--tp-options")
    found = disaggregate(s, arrival_rate=args.rate, ttft=args.ttft_target, tpot=args.tpot_target,
                         tp=None if tp is None else [int(t) for t in tp])  # fmt: skip
    if args.json:
        table = found.table().reset_index()
        print_json({"scenario": s.to_dict()["title"], "arrival_rate": found.arrival_rate,
                    "prefill_gpus": found.prefill_gpus, "decode_gpus": found.decode_gpus,
                    "pd_ratio": found.pd_ratio,
                    "pools": table.to_dict(orient="records")})  # fmt: skip
        return EXIT_OK
    print(f"{s.summary().title}\n{found}")
    return EXIT_OK


# ----------------------------------------------------------------------------- parsers
def add_serving_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``frontier``, ``search`` and ``disaggregate`` with the command's ``add``."""
    from llmphys.design_space import CHUNK_POINTS

    p = add(cmd_frontier)
    add_scenario_options(p)
    p.add_argument(
        "--over",
        metavar="AXIS[=V1,V2,...]",
        action="append",
        help="an axis (repeatable): batch, tp, pp, ep on their default grids, or with values "
        "(tp=2,4,8; weights=bf16,fp8); default: batch",
    )
    p.add_argument("--floor", type=float, metavar="TOK/S", help="a floor of tokens/s per user: "
                   "the point with the most tokens/s per GPU that meets it")  # fmt: skip
    p.add_argument("--all", action="store_true", help="every point, not only the Pareto set")
    p.add_argument("--csv", action="store_true", help="the table as CSV")

    p = add(cmd_search)
    p.add_argument("--models", metavar="M1,M2", help="model presets (default: llama-3.1-70b)")
    p.add_argument("--hardware", metavar="H1,H2", help="accelerators (default: h100-sxm)")
    p.add_argument("--weights", metavar="P1,P2", help="weight precisions (default: released)")
    p.add_argument("--kv", metavar="P1,P2", help="KV-cache precisions (default: bf16)")
    for option, key, text in (
        ("--tp", "tp", "tensor-parallel degrees"),
        ("--pp", "pp", "pipeline-parallel degrees"),
        ("--ep", "ep", "expert-parallel degrees"),
        ("--batch", "batch", "batch sizes"),
        ("--prompt-len", "prompt_len", "prompt lengths"),
        ("--output-len", "output_len", "output lengths"),
    ):
        p.add_argument(option, dest=key, metavar="V1,V2|LO..HI",
                       help=f"{text}: a list, or LO..HI for its powers of two")  # fmt: skip
    p.add_argument(
        "--objective",
        action="append",
        metavar="FIGURE:min|max",
        help="two objectives (default: cost_per_million_tokens:min and "
        "tokens_per_second_per_user:max)",
    )
    p.add_argument("--set", metavar="NAME=VALUE", action="append",
                   help="an input for every point: price_per_gpu_hour=2.5")  # fmt: skip
    p.add_argument(
        "--chunk-points", type=int, default=CHUNK_POINTS, metavar="N",
        help="design points per Dask chunk (memory per chunk grows with it)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, metavar="N",
        help="run on a local dask.distributed cluster of N processes",
    )  # fmt: skip
    p.add_argument("--csv", action="store_true", help="the Pareto set as CSV")

    p = add(cmd_disaggregate)
    add_scenario_options(p)
    p.add_argument("--rate", type=float, required=True, metavar="REQ/S",
                   help="requests arriving per second")  # fmt: skip
    p.add_argument("--ttft", dest="ttft_target", required=True, metavar="TIME",
                   help="the time-to-first-token target, KV transfer included: '1 s'")  # fmt: skip
    p.add_argument("--tpot", dest="tpot_target", required=True, metavar="TIME",
                   help="the time-per-output-token target: '50 ms'")  # fmt: skip
    p.add_argument("--tp-options", metavar="T1,T2", help="layouts to choose among (default: "
                   "frontier's n_TP grid, 1,2,4,8)")  # fmt: skip
