"""Benchmark the numeric path of llmphys: every ratio measured side by side in one run.

Run from the repository root (about a minute on 2 cores)::

    python benchmarks/run.py            # prints the table, writes benchmarks/results.json

What it measures, on this machine, in this process (except the import times, which need fresh
interpreters):

1. **vectorized**: ``formula.lambdify()`` against a hand-written numpy version of the same
   formula (``baselines.py``) over 10^6 points, interleaved, best of N; ratio target <= 1.25;
2. **per point**: SymPy ``subs``/``evalf`` per point against the lambdified function, both
   per point of a 10^6-point sweep and per single scalar call; speed-up target >= 1,000x
   (checked on the sweep figure, the path sweeps and plots use);
3. **single-point latency** of every registered formula: the raw path (floats) and the
   unit-aware path (pint quantities in, a quantity out, validated), median; budget < 1 ms
   each (the time a slider move may take);
4. **import time**: ``import llmphys`` against ``import sympy, pint``, each in fresh
   interpreters (median of several; one discarded warm-up run each so that both read cached
   bytecode, as an installed package does); ratio target <= 1.3;
5. **a Scenario figure when a value changes** (a slider moves): ``s.with_values(batch=b)
   .evaluate(name)`` (one compiled call, the figure's formula resolved once) beside
   ``s.replace(batch=b)`` (a new deployment: every input resolved again) and the formula's
   unit-aware call ``f(**values)``, per figure of :data:`llmphys.scenario.FIGURES` of a
   4-GPU Llama-3.1-70B deployment, median; budget < 30 us per re-evaluation.

Also: the one-off cost of compiling each formula (its first ``lambdify()``).  Nothing here is
a test: tests never assert wall-clock times.  Figures go to the terminal and to a JSON file
with the machine they ran on.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import inspect
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import sympy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baselines import BASELINES  # noqa: E402

import llmphys as F  # noqa: E402
from llmphys.engine.relations import RELATIONS  # noqa: E402
from llmphys.units import Q_, UnitSymbol  # noqa: E402

TARGETS = {
    "vectorized_ratio_max": ("<=", 1.25),
    "evalf_speedup_min": (">=", 1000.0),
    "latency_raw_ms_max": ("<", 1.0),
    "latency_units_ms_max": ("<", 1.0),
    "import_ratio": ("<=", 1.3),
    "scenario_reeval_us_max": ("<", 30.0),
}
# physical order the glossary cannot state per symbol: the relations every call checks (active
# weights are part of the total, experts per token at most the experts)
ORDERED = [(rel.smaller, rel.larger) for rel in RELATIONS]


# ------------------------------------------------------------------------------ inputs
def random_inputs(names: tuple[str, ...], n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` valid float64 values of each input, drawn over its glossary range (log-uniform
    where the range spans decades; whole numbers for counts)."""
    rng = np.random.default_rng(seed)
    values: dict[str, np.ndarray] = {}
    for name in names:
        entry = F.glossary[name]
        lo, hi = entry.range if entry.range is not None else (1e-3, 1e3)
        if entry.domain in ("fraction", "unit_interval"):
            hi = min(hi, 1.0)
        if entry.log_scale:
            x = 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), n)
        else:
            x = rng.uniform(max(lo, 1e-6), hi, n)
        if entry.integer:
            x = np.maximum(np.round(x), max(1.0, math.ceil(lo)))
        values[name] = x.astype(np.float64)
    for small, large in ORDERED:
        if small in values and large in values:
            a, b = values[small], values[large]
            values[small], values[large] = np.minimum(a, b), np.maximum(a, b)
    return values


def defaults(f: F.Formula) -> dict[str, float]:
    return {n: float(F.glossary[n].default) for n in f.input_names}


# ------------------------------------------------------------------------------ timing
def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Fastest of ``repeat`` single runs, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def per_call(fn: Callable[[], Any], repeat: int = 5, seconds: float = 0.01) -> float:
    """Median over ``repeat`` rounds of the mean time per call (seconds); each round runs
    about ``seconds``, well above the clock's resolution."""
    t0 = time.perf_counter()
    fn()  # also warms any per-unit cache: a slider's second move, not its first
    estimate = max(time.perf_counter() - t0, 1e-7)
    number = max(10, int(seconds / estimate))
    timer = timeit.Timer(fn)
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def side_by_side(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best-of times of ``a`` and ``b``, alternated run by run so both see the same machine."""
    ta, tb = [], []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return min(ta), min(tb)


# ------------------------------------------------------------------------------ sections
def compile_times() -> dict[str, float]:
    """Seconds of each formula's first ``lambdify()``: SymPy's work, paid once per formula.

    Runs first, while no formula of this process has been compiled.
    """
    out = {}
    for name in sorted(F.registry):
        f = F.registry[name]
        t0 = time.perf_counter()
        f.lambdify()
        f.lambdify(units=True)
        out[name] = time.perf_counter() - t0
    return out


def vectorized(points: int, repeat: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of the side-by-side timings, and the baselines skipped as out of date (a formula
    whose inputs or numbers no longer match its hand-written version)."""
    rows, stale = [], []
    for name, hand in BASELINES.items():
        f = F.registry.get(name)
        if f is None or set(inspect.signature(hand).parameters) != set(f.input_names):
            stale.append(f"{name}: the formula's inputs changed")
            continue
        fn = f.lambdify()
        values = random_inputs(fn.inputs, points, seed=1)
        args = [values[n] for n in fn.inputs]
        ours, theirs = fn(*args), hand(**values)
        worst = float(np.max(np.abs(ours - theirs) / np.abs(theirs)))
        if worst > 1e-12:
            stale.append(f"{name}: the numbers differ (relative {worst:.1e})")
            continue
        t_lam, t_hand = side_by_side(
            functools.partial(fn, *args), functools.partial(hand, **values), repeat
        )
        rows.append(
            {
                "formula": name,
                "points": points,
                "lambdified_ms": t_lam * 1e3,
                "hand_numpy_ms": t_hand * 1e3,
                "ratio": t_lam / t_hand,
            }
        )
    return rows, stale


def per_formula(points: int, repeat: int, evalf_points: int) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(F.registry):
        f = F.registry[name]
        fn = f.lambdify()
        fq = f.lambdify(units=True)
        # a sweep: per point of a 10^6-point evaluation
        values = random_inputs(fn.inputs, points, seed=2)
        args = [values[n] for n in fn.inputs]
        sweep_s = best_of(functools.partial(fn, *args), repeat) / points
        # SymPy per point: substitute and evaluate, one point at a time
        scalars = random_inputs(fn.inputs, evalf_points, seed=3)
        expr = f.expanded
        units = {s: sympy.Integer(1) for s in expr.free_symbols if isinstance(s, UnitSymbol)}
        inputs = [s for s in expr.free_symbols if not isinstance(s, UnitSymbol)]
        t0 = time.perf_counter()
        for i in range(evalf_points):
            subs = {**units, **{s: float(scalars[s.name][i]) for s in inputs}}
            expr.subs(subs).evalf()
        evalf_s = (time.perf_counter() - t0) / evalf_points
        # single points: raw floats, and quantities through the unit-aware path
        point = defaults(f)
        raw_args = [point[n] for n in fn.inputs]
        quantities = [Q_(point[n], F.glossary[n].unit) for n in fn.inputs]
        raw_s = per_call(functools.partial(fn, *raw_args))
        units_s = per_call(functools.partial(fq, *quantities))
        rows.append(
            {
                "formula": name,
                "inputs": len(fn.inputs),
                "sweep_ns_per_point": sweep_s * 1e9,
                "evalf_us_per_point": evalf_s * 1e6,
                "evalf_speedup_sweep": evalf_s / sweep_s,
                "evalf_speedup_scalar": evalf_s / raw_s,
                "latency_raw_us": raw_s * 1e6,
                "latency_units_us": units_s * 1e6,
            }
        )
    return rows


def import_times(runs: int) -> dict[str, Any]:
    """Median seconds of each import in fresh interpreters, runs alternated."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    statements = {"llmphys": "import llmphys", "sympy_pint": "import sympy, pint"}

    def once(stmt: str) -> float:
        code = f"import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        return float(out.stdout)

    for stmt in statements.values():  # warm-up: write bytecode caches, fill the OS cache
        once(stmt)
    times: dict[str, list[float]] = {k: [] for k in statements}
    for _ in range(runs):
        for key, stmt in statements.items():
            times[key].append(once(stmt))
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "runs": runs,
        "llmphys_s": medians["llmphys"],
        "sympy_pint_s": medians["sympy_pint"],
        "ratio": medians["llmphys"] / medians["sympy_pint"],
        "all_llmphys_s": times["llmphys"],
        "all_sympy_pint_s": times["sympy_pint"],
    }


def scenario_times(repeat: int = 7) -> list[dict[str, Any]]:
    """Per figure: a value change through ``with_values`` (compiled once), through
    ``replace`` (resolved again) and the formula's unit-aware call, in microseconds."""
    from llmphys.scenario import FIGURES

    s = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", tp=4, batch=32)
    batches = iter(range(1, 10**9))
    rows = []
    for name in FIGURES:
        s.evaluate(name)  # compiled once, as the first display of the figure does
        f, values = s.formula(name), s.values_for(name)
        quick = per_call(lambda n=name: s.with_values(batch=next(batches)).evaluate(n), repeat)
        again = per_call(lambda n=name: s.replace(batch=next(batches)).evaluate(n), repeat)
        call = per_call(lambda f=f, v=values: f(**v), repeat)
        rows.append(
            {
                "figure": name,
                "with_values_us": quick * 1e6,
                "replace_us": again * 1e6,
                "formula_call_us": call * 1e6,
            }
        )
    return rows


def search_times(points: int, loop_points: int, cluster: bool) -> dict[str, Any]:
    """Design points per second: ``llmphys.search`` on Dask threads (and on a LocalCluster of
    2 processes with ``cluster``) against a per-point Python loop over ``Scenario.evaluate``
    for the same figures (a sample of the points, its rate extrapolated)."""
    import time

    from llmphys.design_space import BASE

    batches = max(1, points // (4 * 32))
    space = dict(models="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=[1, 2, 4, 8],
                 batch=np.arange(1, batches + 1), prompt_len=np.arange(512, 16385, 512),
                 price_per_gpu_hour=2)  # fmt: skip
    start = time.perf_counter()
    found = F.search(**space)
    threads = time.perf_counter() - start
    out: dict[str, Any] = {"points": found.points, "threads_s": threads,
                           "threads_points_per_s": found.points / threads}  # fmt: skip
    import tracemalloc

    tracemalloc.start()  # a second run, traced: numpy's allocations at their peak
    F.search(**space)
    out["peak_traced_MB"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    out["chunk_points"] = found.chunk_points
    out["whole_MB"] = found.points * 8 * (len(BASE) + 1 + 6) / 1e6  # figures, cost, 6 axes
    if cluster:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as lc,
            Client(lc) as client,
        ):
            start = time.perf_counter()
            F.search(**space, client=client)
            out["cluster_s"] = time.perf_counter() - start
            out["cluster_points_per_s"] = found.points / out["cluster_s"]
    figures = (*BASE, "cost_per_million_tokens")
    rng = np.random.default_rng(0)
    base = F.Scenario("llama-3.1-70b", "h100-sxm", weights="fp8", price_per_gpu_hour=2)
    start = time.perf_counter()
    for _ in range(loop_points):
        s = base.replace(tp=int(rng.choice([1, 2, 4, 8])), batch=int(rng.integers(1, batches + 1)),
                         prompt_len=int(rng.choice(space["prompt_len"])))  # fmt: skip
        for name in figures:
            s.evaluate(name)
    loop = (time.perf_counter() - start) / loop_points
    out["loop_points_per_s"] = 1 / loop
    out["speedup_threads_vs_loop"] = out["threads_points_per_s"] * loop
    return out


def peer_times(python: str | None, points: int) -> list[dict[str, Any]]:
    """The peers' configurations per second (``peers.py``), run by ``python``: an interpreter
    of a throwaway environment where they are installed (they are never llmphys's
    dependencies).  Empty when no such interpreter is given or found."""
    import subprocess
    import tempfile

    if python is None:
        python = os.environ.get("LLMPHYS_PEERS_PYTHON") or (
            "/tmp/peers/bin/python" if Path("/tmp/peers/bin/python").exists() else None
        )
    if python is None:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peers.json"
        done = subprocess.run(
            [python, str(HERE / "peers.py"), "--points", str(points), "--json", str(out)],
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if done.returncode != 0 or not out.exists():
            return [{"peer": "peers.py", "note": f"failed: {done.stderr.strip()[-300:]}"}]
        return json.loads(out.read_text())["peers"]


def machine(
    packages: tuple[str, ...] = ("llmphys", "numpy", "sympy", "pint", "xarray", "scipy"),
) -> dict[str, Any]:
    """The machine a benchmark ran on, the load beside it, and the versions of ``packages``."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        # other work on the machine while this ran (1, 5, 15 min): high values mean noise
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        **{name: version(name) for name in packages},
    }


# ------------------------------------------------------------------------------ report
def check(summary: dict[str, float]) -> dict[str, bool]:
    met = {}
    for key, (op, target) in TARGETS.items():
        value = summary[key]
        met[key] = {"<=": value <= target, ">=": value >= target, "<": value < target}[op]
    return met


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    w = max(len(r["formula"]) for r in results["formulas"]) + 2
    lines = [
        f"llmphys numeric benchmark  {m['date']}",
        f"machine: {m['cpu']} ({m['cpu_count']} CPUs), {m['platform']}, load average "
        f"{', '.join(f'{x:.1f}' for x in m['load_average'] or [])} at the start",
        f"python {m['python']}, numpy {m['numpy']}, sympy {m['sympy']}, pint {m['pint']}",
        "",
        f"1. lambdified vs hand-written numpy, {results['points']:,} points "
        f"(best of {results['repeat']}, interleaved)",
        f"   {'formula':<{w}}{'lambdified ms':>15}{'numpy ms':>12}{'ratio':>8}",
    ]
    for r in results["vectorized"]:
        lines.append(
            f"   {r['formula']:<{w}}{r['lambdified_ms']:>15.2f}{r['hand_numpy_ms']:>12.2f}"
            f"{r['ratio']:>8.3f}"
        )
    for line in results["stale_baselines"]:
        lines.append(f"   skipped, update benchmarks/baselines.py: {line}")
    lines += [
        "",
        "2-3. per formula: SymPy subs/evalf vs lambdified; single-point latency (median)",
        f"   {'formula':<{w}}{'evalf us':>10}{'sweep ns':>10}{'speed-up':>11}"
        f"{'scalar x':>10}{'raw us':>9}{'units us':>10}",
    ]
    for r in results["formulas"]:
        lines.append(
            f"   {r['formula']:<{w}}{r['evalf_us_per_point']:>10.0f}"
            f"{r['sweep_ns_per_point']:>10.1f}{r['evalf_speedup_sweep']:>11,.0f}"
            f"{r['evalf_speedup_scalar']:>10,.0f}{r['latency_raw_us']:>9.1f}"
            f"{r['latency_units_us']:>10.1f}"
        )
    c = results["compile_s"]
    slowest = max(c, key=c.get)
    i = results["import"]
    lines += [
        "   (speed-up: per point of a sweep; scalar x: per single scalar call)",
        f"   compiling once per formula (first lambdify): max {c[slowest] * 1e3:.0f} ms "
        f"({slowest}), all {sum(c.values()) * 1e3:.0f} ms",
        "",
        f"4. import time, fresh interpreters, median of {i['runs']}: "
        f"import llmphys {i['llmphys_s'] * 1e3:.0f} ms, "
        f"import sympy, pint {i['sympy_pint_s'] * 1e3:.0f} ms",
        "",
        "5. a Scenario figure when a value changes (4 x H100, Llama-3.1-70B FP8, median us)",
        f"   {'figure':<{w}}{'with_values':>12}{'replace':>10}{'f(**values)':>13}",
    ]
    for r in results["scenario"]:
        lines.append(
            f"   {r['figure']:<{w}}{r['with_values_us']:>12.1f}{r['replace_us']:>10.0f}"
            f"{r['formula_call_us']:>13.1f}"
        )
    q = results["search"]
    lines += [
        "",
        f"6. design-space search, {q['points']:,} points (Llama-3.1-70B FP8 on H100: tp x batch "
        "x prompt_len), design points per second",
        f"   llmphys.search on Dask threads   {q['threads_points_per_s']:>14,.0f}  "
        f"({q['threads_s']:.2f} s)",
    ]
    lines.append(
        f"   peak memory (tracemalloc, threads) {q['peak_traced_MB']:>11,.1f} MB for chunks of "
        f"{q['chunk_points']:,} points ({q['whole_MB']:,.0f} MB if evaluated whole)"
    )
    if "cluster_points_per_s" in q:
        lines.append(
            f"   on a LocalCluster (2 processes) {q['cluster_points_per_s']:>14,.0f}  "
            f"({q['cluster_s']:.2f} s)"
        )
    lines += [
        f"   a Python loop of Scenario calls {q['loop_points_per_s']:>14,.0f}  "
        f"(search is {q['speedup_threads_vs_loop']:,.0f}x faster)",
    ]
    peers = results.get("peers") or []
    if not peers:
        lines.append("   peers (llm-analysis, GenZ, aiconfigurator): not measured in this run "
                     "(--peers-python: an environment where they are installed)")  # fmt: skip
    for r in peers:
        rate = r.get("points_per_second")
        if not rate:
            lines.append(f"   {r['peer']:<32} not measured: {r.get('note', '')[:60]}")
            continue
        lines.append(
            f"   {r['peer'] + ', one call per point':<32} {rate:>14,.0f}  (search is "
            f"{q['threads_points_per_s'] / rate:,.0f}x faster; {r['version']})"
        )
    lines += ["", "summary                     measured   target     met"]
    s, met = results["summary"], results["met"]
    units = {
        "vectorized_ratio_max": "",
        "evalf_speedup_min": "x",
        "latency_raw_ms_max": " ms",
        "latency_units_ms_max": " ms",
        "import_ratio": "",
        "scenario_reeval_us_max": " us",
    }
    for key, (op, target) in TARGETS.items():
        value = s[key]
        shown = f"{value:,.0f}" if value >= 100 else f"{value:.3f}"
        wanted = f"{op} {target:g}{units[key]}"
        lines.append(
            f"  {key:<24}{shown + units[key]:>12}   {wanted:<10}{'yes' if met[key] else 'NO':>4}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=10**6, help="points per sweep")
    parser.add_argument("--repeat", type=int, default=15, help="runs per vectorized timing")
    parser.add_argument("--evalf-points", type=int, default=20, help="SymPy points/formula")
    parser.add_argument("--import-runs", type=int, default=9, help="fresh interpreters each")
    parser.add_argument("--search-points", type=int, default=10**6, help="design points")
    parser.add_argument("--loop-points", type=int, default=50, help="Python-loop sample")
    parser.add_argument("--cluster", action="store_true", help="also on a LocalCluster")
    parser.add_argument("--peers-python", metavar="PATH", help="interpreter of an environment "
                        "with the peers installed (default: $LLMPHYS_PEERS_PYTHON, or "
                        "/tmp/peers/bin/python if it exists)")  # fmt: skip
    parser.add_argument("--peer-points", type=int, default=200, help="points per peer")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {
        "machine": machine(),
        "points": args.points,
        "repeat": args.repeat,
        "targets": {k: {"op": op, "value": v} for k, (op, v) in TARGETS.items()},
    }
    results["compile_s"] = compile_times()
    results["vectorized"], results["stale_baselines"] = vectorized(args.points, args.repeat)
    results["formulas"] = per_formula(args.points, 3, args.evalf_points)
    results["import"] = import_times(args.import_runs)
    results["scenario"] = scenario_times()
    results["search"] = search_times(args.search_points, args.loop_points, args.cluster)
    results["peers"] = peer_times(args.peers_python, args.peer_points)
    rows = results["formulas"]
    results["summary"] = {
        "vectorized_ratio_max": max(r["ratio"] for r in results["vectorized"]),
        "evalf_speedup_min": min(r["evalf_speedup_sweep"] for r in rows),
        "evalf_speedup_scalar_min": min(r["evalf_speedup_scalar"] for r in rows),
        "latency_raw_ms_max": max(r["latency_raw_us"] for r in rows) / 1e3,
        "latency_units_ms_max": max(r["latency_units_us"] for r in rows) / 1e3,
        "import_ratio": results["import"]["ratio"],
        "scenario_reeval_us_max": max(r["with_values_us"] for r in results["scenario"]),
    }
    results["met"] = check(results["summary"])
    print(report(results))
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {args.output}")
    return 1 if args.strict and not all(results["met"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
