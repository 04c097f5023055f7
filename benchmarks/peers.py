"""How fast three peer tools answer one deployment configuration, side by side.

What is measured: for each peer, the cheapest public call that answers one design point of
``llmphys.search`` -- a Llama-70B-class model on H100 SXM 80GB, BF16 weights, tensor-parallel
degree tp, batch B, prompt 4096 / output 1024 -> time per output token (TPOT), time to first
token (TTFT) and throughput.  Each peer is timed over the same grid of varied (tp, batch) points
with ``time.perf_counter``, best of ``repeat`` passes; one-time setup (imports, loading model,
hardware and kernel-table files, building per-tp objects, a warm-up call) is excluded and named
in each row's ``excluded``.  Each peer's answer at one reference point (tp=4, batch 32) is
recorded with the efficiency assumptions it applied by default.

Peers: llm-analysis (PyPI ``llm-analysis``), GenZ (PyPI ``genz-llm``) and aiconfigurator
(PyPI ``aiconfigurator``).  They are NEVER dependencies of llmphys: install them in a
throwaway environment and run this file with that interpreter::

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install llm-analysis genz-llm aiconfigurator
    /tmp/peers/bin/python benchmarks/peers.py --json out.json

A peer that is not installed (or fails) is reported as such; nothing here crashes on a
missing peer.  If ``llmphys`` is importable too, its own answer at the reference point is
printed beside the peers' for comparison (it is not timed here: see ``run.py``).

The grid holds points every peer accepts: tp=1 is left out because BF16 Llama-70B weights
(141 GB) do not fit one 80 GB GPU (llm-analysis and GenZ raise on such points), and batch is
capped per tp (tp=2: <= 8, tp=4: <= 64, tp=8: <= 128) so every peer's memory check passes.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

__all__ = ["grid", "llmphys_reference", "measure"]

PROMPT = 4096
OUTPUT = 1024
REFERENCE = {"tp": 4, "batch": 32}
_MAX_BATCH = {2: 8, 4: 64, 8: 128}
_GENZ_DATA = "/tmp/genz/data/model"  # GenZ writes each built model there as a CSV file


def grid(points: int = 200) -> list[tuple[int, int]]:
    """The (tp, batch) points every peer is timed on: tp cycles 2, 4, 8; batch grows per tp."""
    tps = sorted(_MAX_BATCH)
    out = []
    for i in range(points):
        tp = tps[i % len(tps)]
        out.append((tp, 1 + (i // len(tps)) % _MAX_BATCH[tp]))
    return out


def _version(*dists: str) -> str:
    found = []
    for dist in dists:
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _time(
    evaluate: Callable[[int, int], Any],
    pts: list[tuple[int, int]],
    repeat: int,
    before_each: Callable[[], None] | None = None,
) -> float:
    """Best wall time over ``repeat`` passes of ``evaluate`` on every point, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        if before_each is not None:
            before_each()  # untimed
        start = time.perf_counter()
        for tp, batch in pts:
            evaluate(tp, batch)
        best = min(best, time.perf_counter() - start)
    return best


def _row(peer: str, version: str, call: str, seconds: float, n: int, **extra: Any) -> dict:
    row = {
        "peer": peer,
        "version": version,
        "call": call,
        "points": n,
        "points_per_second": n / seconds if seconds > 0 else None,
        "us_per_point": seconds / n * 1e6 if n else None,
        "reference": {},
        "excluded": "",
        "note": "",
    }
    row.update(extra)
    return row


def _missing(peer: str, dists: tuple[str, ...], error: BaseException) -> dict:
    installed = _version(*dists)
    return {
        "peer": peer,
        "version": installed or "not installed",
        "call": None,
        "points": 0,
        "points_per_second": None,
        "us_per_point": None,
        "reference": {},
        "excluded": "",
        "note": (f"failed: {type(error).__name__}: {error}" if installed else "not installed"),
    }


# ---------------------------------------------------------------- llm-analysis


def _llm_analysis(pts: list[tuple[int, int]], repeat: int) -> dict:
    peer, dists = "llm-analysis", ("llm-analysis",)
    try:
        from llm_analysis.analysis import LLMAnalysis
        from llm_analysis.config import (
            ParallelismConfig,
            get_dtype_config_by_name,
            get_gpu_config_by_name,
            get_model_config_by_name,
        )
        from llm_analysis.logger import logger

        logger.setLevel(logging.ERROR)
        # the closest model it ships: its config approximates Llama-2-70B's gated MLP
        model = get_model_config_by_name("upstage_Llama-2-70b-instruct-v2")
        gpu = get_gpu_config_by_name("h100-sxm-80gb")
        dtype = get_dtype_config_by_name("w16a16e16")
        # one LLMAnalysis per tp; efficiencies left at their defaults (constant.py: all 1.0)
        analyses = {
            tp: LLMAnalysis(model, gpu, dtype, ParallelismConfig(tp_size=tp, sp_size=tp))
            for tp in {*_MAX_BATCH, REFERENCE["tp"]}
        }

        def evaluate(tp: int, batch: int) -> dict:
            return analyses[tp].inference(
                batch_size_per_gpu=batch, seq_len=PROMPT, num_tokens_to_generate=OUTPUT
            )

        evaluate(*pts[0])  # warm-up
        seconds = _time(evaluate, pts, repeat)
        ref = evaluate(REFERENCE["tp"], REFERENCE["batch"])
        a = analyses[REFERENCE["tp"]]
    except Exception as error:
        return _missing(peer, dists, error)
    return _row(
        peer,
        _version(*dists),
        "LLMAnalysis(model, gpu, dtype, ParallelismConfig(tp)).inference(batch_size_per_gpu=B, "
        "seq_len=4096, num_tokens_to_generate=1024)",
        seconds,
        len(pts),
        reference={
            "model": model.name,
            "tpot_ms": ref["decode_latency"] * 1e3,
            "ttft_ms": ref["prefill_latency"] * 1e3,
            "decode_tok_per_s": ref["decode_tokens_per_sec"],
            "end_to_end_tok_per_s": ref["total_tokens_per_sec"],
            "weights_per_gpu_GB": ref["weight_memory_per_gpu"] / 1e9,
            "kv_cache_per_gpu_GB": ref["kv_cache_memory_per_gpu"] / 1e9,
            "assumptions": (
                f"flops_efficiency={a.flops_efficiency}, "
                f"hbm_memory_efficiency={a.hbm_memory_efficiency}, "
                f"intra_node_memory_efficiency={a.intra_node_memory_efficiency} (defaults, "
                "constant.py); peak 989 TFLOPS, 3350 GB/s, NVLink 450 GB/s with an 8 us "
                "floor per all-reduce; decode reads+writes the whole KV cache at its final "
                "length (2x); no comm/compute overlap"
            ),
        },
        excluded=(
            "import; reading model/GPU/dtype JSON configs; building one LLMAnalysis per tp; "
            "one warm-up call"
        ),
        note=(
            "Llama-3.1-70B cannot be described (ffn_embed_dim must be a multiple of hidden_dim, "
            "config.py:75); the shipped Llama-2-70B config uses a 2-matrix 32768-wide MLP: "
            "55.3B parameters instead of ~69B. Logging set to ERROR (its f-strings and "
            "pformat of the configs still run in every call)."
        ),
    )


# ---------------------------------------------------------------- GenZ


def _genz(pts: list[tuple[int, int]], repeat: int) -> dict:
    peer, dists = "GenZ", ("genz-llm",)
    try:
        from GenZ import decode_moddeling, prefill_moddeling

        name = "meta-llama/Llama-3.1-70B"
        common = {"model": name, "system_name": "H100_GPU", "bits": "bf16"}

        def evaluate(tp: int, batch: int) -> tuple[Any, Any]:
            decode = decode_moddeling(
                batch_size=batch, input_tokens=PROMPT, output_tokens=OUTPUT, Bb=1,
                tensor_parallel=tp, **common,
            )  # fmt: skip
            prefill = prefill_moddeling(
                batch_size=batch, input_tokens=PROMPT, tensor_parallel=tp, **common
            )
            return decode, prefill

        before = set(glob.glob(os.path.join(_GENZ_DATA, "*.csv")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate(*pts[0])  # warm-up
            seconds = _time(evaluate, pts, repeat)
            decode, prefill = evaluate(REFERENCE["tp"], REFERENCE["batch"])
            beam4 = decode_moddeling(
                batch_size=REFERENCE["batch"], input_tokens=PROMPT, output_tokens=OUTPUT,
                tensor_parallel=REFERENCE["tp"], **common,
            )  # fmt: skip
        written = set(glob.glob(os.path.join(_GENZ_DATA, "*.csv"))) - before
        for path in written:  # only the files this run wrote
            os.remove(path)
        table = decode["summary_table"]
    except Exception as error:
        return _missing(peer, dists, error)
    return _row(
        peer,
        _version(*dists),
        "decode_moddeling(model, batch_size=B, input_tokens=4096, output_tokens=1024, Bb=1, "
        "system_name='H100_GPU', bits='bf16', tensor_parallel=tp) + prefill_moddeling(...same)",
        seconds,
        len(pts),
        reference={
            "model": name,
            "tpot_ms": float(decode["Latency"]),
            "ttft_ms": float(prefill["Latency"]),
            "decode_tok_per_s": float(decode["Throughput"]),
            "weights_per_gpu_MiB": float(table["Total Weights (MB)"].values[0]),
            "kv_cache_per_gpu_MiB": float(table["KV Cache (MB)"].values[0]),
            "comm_ms_per_token": float(table["Comm Latency (msec)"].values[0]),
            "tpot_ms_default_beam_Bb4": float(beam4["Latency"]),
            "assumptions": (
                "system_eff=1 (compute and memory efficiency 1.0, llm_decode.py defaults); "
                "H100_GPU = 989 TFLOPS, 3400 GB/s, 80 GB, ICN 450 GB/s "
                "(Systems/system_configs.py); KV cache read at its final length; decode "
                "defaults to Bb=4 beams (set to 1 here)"
            ),
        },
        excluded="import; one warm-up call (the model presets are module constants)",
        note=(
            f"each point builds the model graph 4 times (twice in each of decode_moddeling "
            f"and prefill_moddeling), through pandas, and writes 4 CSV files to {_GENZ_DATA} "
            f"(this run wrote and then removed {len(written)}); decode alone is about half "
            "the time"
        ),
    )


# ---------------------------------------------------------------- aiconfigurator


def _aiconfigurator(pts: list[tuple[int, int]], repeat: int) -> dict:
    peer, dists = "aiconfigurator", ("aiconfigurator", "aiconfigurator-core")
    try:
        from aiconfigurator.sdk.backends.factory import get_backend
        from aiconfigurator.sdk.config import RuntimeConfig
        from aiconfigurator.sdk.config_builders import build_model_config
        from aiconfigurator.sdk.inference_session import InferenceSession
        from aiconfigurator.sdk.models import get_model
        from aiconfigurator.sdk.perf_database import (
            get_database_view,
            get_latest_database_version,
        )

        logging.disable(logging.WARNING)
        name, system, backend_name = "meta-llama/Meta-Llama-3.1-70B", "h100_sxm", "trtllm"
        db_version = get_latest_database_version(system=system, backend=backend_name)
        database = get_database_view(
            system, backend_name, db_version, allow_missing_data=False,
            database_mode="SILICON", transfer_policy=None,
        )  # fmt: skip
        backend = get_backend(backend_name)
        sessions = {
            tp: InferenceSession(
                get_model(name, build_model_config(tp, 1, 1, None, None), backend_name),
                database,
                backend,
            )
            for tp in {*_MAX_BATCH, REFERENCE["tp"]}
        }

        def evaluate(tp: int, batch: int) -> dict:
            summary = sessions[tp].run_static(
                runtime_config=RuntimeConfig(batch_size=batch, isl=PROMPT, osl=OUTPUT),
                mode="static",
            )
            return summary.get_result_dict()

        # warm-up: the kernel tables load lazily, per op and per tp, on first use
        for tp in sessions:
            evaluate(tp, 1)
        # interpolated queries are lru-cached on the database: clear them before every pass
        seconds = _time(evaluate, pts, repeat, before_each=database.clear_runtime_caches)
        ref = evaluate(REFERENCE["tp"], REFERENCE["batch"])
    except Exception as error:
        return _missing(peer, dists, error)
    return _row(
        peer,
        _version(*dists),
        "InferenceSession(model_per_tp, db, backend).run_static(RuntimeConfig(batch_size=B, "
        "isl=4096, osl=1024), mode='static').get_result_dict()",
        seconds,
        len(pts),
        reference={
            "model": name,
            "tpot_ms": float(ref["tpot"]),
            "ttft_ms": float(ref["ttft"]),
            "decode_tok_per_s": REFERENCE["batch"] / float(ref["tpot"]) * 1e3,
            "end_to_end_tok_per_s": float(ref["tokens/s"]),
            "memory_per_gpu_GiB": float(ref["memory"]),
            "precision": f"gemm {ref['gemm']}, kv {ref['kvcache']}, fmha {ref['fmha']}",
            "assumptions": (
                f"SILICON mode: measured kernel tables for {backend_name} {db_version} on "
                f"{system} (GEMM, attention, all-reduce, element-wise), interpolated; decode "
                "evaluated every 32nd step (stride=32); static batching (the batch's prompts "
                "prefilled together, then decoded together)"
            ),
        },
        excluded=(
            "import; locating and opening the perf database; get_model + InferenceSession per "
            "tp; one warm-up call per tp (loads the kernel tables lazily); clearing the "
            "database's query caches before each pass"
        ),
        note=(
            "the convenience wrapper aiconfigurator.cli.api.cli_estimate(mode='static') gives "
            "the same numbers but rebuilds model and session on every call (~0.6 s/point "
            "measured separately); mode='agg' models in-flight batching instead"
        ),
    )


PEERS: dict[str, Callable[[list[tuple[int, int]], int], dict]] = {
    "llm-analysis": _llm_analysis,
    "GenZ": _genz,
    "aiconfigurator": _aiconfigurator,
}


def measure(points: int = 200, repeat: int = 3) -> list[dict]:
    """Time every peer on the same ``points``-point (tp, batch) grid; one dict per peer."""
    pts = grid(points)
    return [run(pts, repeat) for run in PEERS.values()]


def llmphys_reference() -> dict | None:
    """llmphys's answer at the reference point (ideal and typical), or None without llmphys."""
    try:
        import llmphys as F
    except ImportError:
        return None
    out = {}
    for assumptions in ("ideal", "typical"):
        s = F.Scenario(
            "llama-3.1-70b", "h100-sxm", weights="bf16", tp=REFERENCE["tp"],
            batch=REFERENCE["batch"], prompt_len=PROMPT, output_len=OUTPUT,
            assumptions=assumptions,
        )  # fmt: skip
        tpot_ms = s.tpot.to("ms").magnitude
        out[assumptions] = {
            "tpot_ms": float(tpot_ms),
            "ttft_ms": float(s.ttft.to("ms").magnitude),
            "decode_tok_per_s": REFERENCE["batch"] / float(tpot_ms) * 1e3,
        }
    return out


def _fmt(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _print(rows: list[dict], ours: dict | None) -> None:
    print(
        f"Reference point: Llama-70B class, H100 SXM, BF16, tp={REFERENCE['tp']}, "
        f"batch {REFERENCE['batch']}, {PROMPT} in / {OUTPUT} out"
    )
    head = f"{'peer':<15}{'version':<54}{'points/s':>11}{'us/point':>12}"
    head += f"{'TPOT ms':>10}{'TTFT ms':>11}{'decode tok/s':>14}"
    print(head)
    for r in rows:
        ref = r["reference"]
        print(
            f"{r['peer']:<15}{r['version'][:53]:<54}{_fmt(r['points_per_second']):>11}"
            f"{_fmt(r['us_per_point']):>12}{_fmt(ref.get('tpot_ms'), 2):>10}"
            f"{_fmt(ref.get('ttft_ms'), 0):>11}{_fmt(ref.get('decode_tok_per_s'), 0):>14}"
        )
    for name, ref in (ours or {}).items():
        print(
            f"{'llmphys':<15}{'assumptions ' + name:<54}{'':>11}{'':>12}"
            f"{_fmt(ref['tpot_ms'], 2):>10}{_fmt(ref['ttft_ms'], 0):>11}"
            f"{_fmt(ref['decode_tok_per_s'], 0):>14}"
        )
    for r in rows:
        print(f"\n{r['peer']}: {r['call'] or r['note']}")
        if r["call"]:
            print(f"  excluded: {r['excluded']}\n  note: {r['note']}")
            print(f"  assumptions: {r['reference'].get('assumptions', '-')}")


def main(argv: list[str] | None = None) -> int:
    """Run ``measure``, print the table, optionally write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="write the rows to PATH as JSON")
    args = parser.parse_args(argv)
    rows = measure(args.points, args.repeat)
    ours = llmphys_reference()
    _print(rows, ours)
    if args.json:
        payload = {
            "reference_point": {**REFERENCE, "prompt_len": PROMPT, "output_len": OUTPUT},
            "grid": {"points": args.points, "repeat": args.repeat, "max_batch": _MAX_BATCH},
            "peers": rows,
            "llmphys_reference": ours,
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
