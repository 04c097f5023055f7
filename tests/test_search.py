"""Design-space search on Dask (issue 19): each point is the Scenario's figure, the constraints
are named per point, the Pareto set has no dominated point, and a LocalCluster of processes
gives the same answer as threads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F

SPACE = dict(models="llama-3.1-70b", hardware="h100-sxm", weights=["fp8", "bf16"],
             tp=[1, 2, 3, 4, 8], pp=[1, 2], batch=[1, 8, 64, 512],
             prompt_len=[1024, 8192], output_len=[256], price_per_gpu_hour=2)  # fmt: skip


@pytest.fixture(scope="module")
def found():
    return F.search(**SPACE, chunk_points=16)


def test_each_point_is_the_scenario_figure(found):
    data = found.data[("llama-3.1-70b", "h100-sxm", "fp8", "bf16")]
    at = dict(tp=4, pp=2, ep=1, batch=64, prompt_len=8192, output_len=256)
    point = data.sel(**at).compute()
    s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4, pp=2,
                   batch=64, prompt_len=8192, output_len=256, price_per_gpu_hour=2)  # fmt: skip
    for figure in ("memory_per_gpu", "tokens_per_second_per_user", "cost_per_million_tokens"):
        assert float(point[figure]) == pytest.approx(s.evaluate(figure).magnitude, rel=1e-9)
    assert bool(point["fits_memory"]) == (s.evaluate("memory_per_gpu") <= s.capacity)


def test_constraints_are_named_per_point(found):
    data = found.data[("llama-3.1-70b", "h100-sxm", "bf16", "bf16")].compute()
    # 64 query heads: tp = 3 is no layout of Llama 3.1 70B
    assert not data["valid_layout"].sel(tp=3).any()
    assert data["valid_layout"].sel(tp=4).all()
    # 70B in BF16 does not fit one H100
    assert not data["fits_memory"].sel(tp=1, pp=1).any()
    assert found.points == 2 * 5 * 2 * 4 * 2


def _dominates(a, b, objectives):
    better = all((a[k] <= b[k]) if d == "min" else (a[k] >= b[k]) for k, d in objectives)
    strict = any((a[k] < b[k]) if d == "min" else (a[k] > b[k]) for k, d in objectives)
    return better and strict


def test_the_pareto_set_holds_every_undominated_feasible_point(found):
    rows = []
    for (_, _, weights, _), data in found.data.items():
        frame = data.compute().to_dataframe().reset_index()
        rows.append(frame[frame["fits_memory"] & frame["valid_layout"]].assign(weights=weights))
    import pandas as pd

    feasible = pd.concat(rows).to_dict(orient="records")
    pareto = found.pareto.to_dict(orient="records")
    objectives = found.objectives
    for p in pareto:
        assert not any(_dominates(q, p, objectives) for q in feasible)
    keys = {(p["weights"], p["tp"], p["pp"], p["batch"], p["prompt_len"]) for p in pareto}
    for q in feasible:
        if (q["weights"], q["tp"], q["pp"], q["batch"], q["prompt_len"]) not in keys:
            assert any(_dominates(p, q, objectives) for p in pareto) or any(
                all(p[k] == q[k] for k, _ in objectives) for p in pareto
            )


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 2048), min_size=1, max_size=12, unique=True),
       st.sampled_from([1, 7, 64, 10**6]))  # fmt: skip
def test_the_answer_does_not_depend_on_the_chunks(batches, chunk):
    space = dict(models="llama-3.1-8b", hardware="h200", tp=[1, 2], batch=batches,
                 price_per_gpu_hour=3)  # fmt: skip
    a = F.search(**space, chunk_points=chunk).pareto
    b = F.search(**space).pareto
    assert a.to_dict(orient="records") == b.to_dict(orient="records")


def test_chunks_bound_the_memory():
    found = F.search(models="llama-3.1-8b", hardware="h100-sxm", batch=range(1, 1001),
                     prompt_len=range(512, 8193, 512), chunk_points=4096)  # fmt: skip
    data = next(iter(found.data.values()))
    chunk = data["memory_per_gpu"].data.chunksize
    assert int(np.prod(chunk)) <= 4096
    assert found.points == 1000 * 16


def test_peak_memory_follows_the_chunk_not_the_space():
    # 2,097,152 points: evaluated whole, the five figures (with the cost) and the six axes'
    # broadcast values would take 8 bytes each per point, 184 MB; chunked, the peak (numpy's
    # allocations, as tracemalloc sees them) stays a small fraction of that and grows with the
    # chunk, not with the space
    import tracemalloc

    space = dict(models="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=[1, 2, 4, 8],
                 batch=np.arange(1, 16385), prompt_len=np.arange(512, 16385, 512),
                 price_per_gpu_hour=2)  # fmt: skip
    F.search(**{**space, "batch": [1]})  # compile outside the measurement
    peaks = {}
    for chunk in (2**14, 2**18):
        tracemalloc.start()
        found = F.search(**space, chunk_points=chunk)
        peaks[chunk] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    whole = found.points * 8 * (len(F.design_space.BASE) + 1 + len(F.design_space.AXES))
    assert found.points == 4 * 16384 * 32
    assert peaks[2**14] < whole / 8
    assert peaks[2**14] < peaks[2**18] / 2


def test_a_local_cluster_of_processes_gives_the_same_answer():
    from distributed import Client, LocalCluster

    space = dict(models="llama-3.1-70b", hardware="h100-sxm", weights=["fp8", "bf16"],
                 tp=[1, 2, 4, 8], batch=np.arange(1, 513), prompt_len=np.arange(512, 8193, 512),
                 output_len=[256, 1024], price_per_gpu_hour=2)  # fmt: skip
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,  # fmt: skip
        Client(cluster) as client,
    ):
        on_cluster = F.search(**space, client=client, chunk_points=2**14)
    threads = F.search(**space, chunk_points=2**14)
    assert on_cluster.points == 2 * 4 * 512 * 16 * 2 == 131_072
    assert on_cluster.pareto.to_dict(orient="records") == threads.pareto.to_dict(orient="records")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objectives": [("cost_per_million_tokens", "low")]}, "give two objectives"),
        ({"batch": []}, "the axis 'batch' has no values"),
        ({"batch": [1.5]}, "batch takes whole numbers of at least 1"),
        ({"models": "llama-3.1-7b"}, "unknown model 'llama-3.1-7b'; did you mean"),
        ({"chunk_points": 0}, "chunk_points must be a positive whole number"),
    ],
)
def test_bad_spaces_say_why(changes, message):
    space = {"models": "llama-3.1-8b", "hardware": "h100-sxm", **changes}
    with pytest.raises(F.LlmphysError, match=message):
        F.search(**space)


def test_import_llmphys_imports_no_more_of_dask_than_pint_does():
    # pint imports dask's core when it is installed (for its dask arrays); llmphys adds
    # nothing: dask.array and distributed load only when a search runs
    code = (
        "import sys, pint\n"
        "before = {m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')}\n"
        "import llmphys\n"
        "after = {m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')}\n"
        "print(sorted(after - before), 'dask.array' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_the_examples_in_the_docstrings_run():
    import doctest

    import llmphys.design_space
    import llmphys.serving

    for module in (llmphys.design_space, llmphys.serving):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
