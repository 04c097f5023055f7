"""The throughput / interactivity frontier (issue 19): monotone in the batch, capped by memory,
a Pareto set with no dominated point, and its two questions answered as a brute force would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmphys as F

SCENARIO = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4)
FRONT = F.frontier(SCENARIO, over=("batch", "tp", "weights"))


def test_more_batch_more_tokens_per_gpu_fewer_per_user():
    for _, curve in FRONT.points.groupby(["tp", "weights"]):
        curve = curve.sort_values("batch")
        assert np.all(np.diff(curve["tokens_per_second_per_gpu"]) > 0)
        assert np.all(np.diff(curve["tokens_per_second_per_user"]) < 0)


def test_memory_caps_each_curve():
    capacity = SCENARIO.capacity.to("byte").magnitude
    points = FRONT.points
    assert (points["fits"] == (points["memory_per_gpu"] <= capacity)).all()
    for _, curve in points.groupby(["tp", "weights"]):
        fits = curve.sort_values("batch")["fits"].to_numpy()
        assert not np.any(fits[1:] & ~fits[:-1])  # once too large, larger batches too
    # 70B in BF16 does not fit one H100 at any batch: tp=1 bf16 has no fitting point
    one = points[(points["tp"] == 1) & (points["weights"] == "bf16")]
    assert not one["fits"].any()


def test_each_point_is_the_scenario_figure():
    row = FRONT.points.query("tp == 2 and weights == 'fp8' and batch == 16").iloc[0]
    s = SCENARIO.replace(tp=2, batch=16, weights="fp8")
    for figure in ("tokens_per_second_per_user", "tokens_per_second_per_gpu", "memory_per_gpu"):
        assert row[figure] == pytest.approx(s.evaluate(figure).magnitude, rel=1e-12)
    assert row["gpu_count"] == 2


def _dominated(points, i):
    a = points.loc[i]
    better = points[
        (points["tokens_per_second_per_user"] >= a["tokens_per_second_per_user"])
        & (points["tokens_per_second_per_gpu"] >= a["tokens_per_second_per_gpu"])
        & (
            (points["tokens_per_second_per_user"] > a["tokens_per_second_per_user"])
            | (points["tokens_per_second_per_gpu"] > a["tokens_per_second_per_gpu"])
        )
    ]
    return not better.empty


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]), min_size=1, unique=True),
    st.lists(st.sampled_from([1, 2, 4, 8]), min_size=1, unique=True),
)
def test_the_pareto_set_has_no_dominated_point(batches, tps):
    front = F.frontier(SCENARIO, over={"batch": batches, "tp": tps})
    fit = front.points[front.points["fits"]]
    pareto = front.pareto
    assert set(pareto.index) <= set(fit.index)
    for i in pareto.index:
        assert not _dominated(fit, i)
    for i in set(fit.index) - set(pareto.index):  # and every point left out is dominated
        assert _dominated(fit, i)


def test_best_at_a_floor_of_tokens_per_user_is_the_brute_force_answer():
    best = FRONT.best_at(50)
    ok = FRONT.points[FRONT.points["fits"] & (FRONT.points["tokens_per_second_per_user"] >= 50)]
    assert best["tokens_per_second_per_gpu"] == ok["tokens_per_second_per_gpu"].max()
    assert best["tokens_per_second_per_user"] >= 50
    with pytest.raises(F.InfeasibleError, match="no point that fits gives 5000 tok/s per user"):
        FRONT.best_at(5000)


def test_fewest_gpus_for_an_aggregate_throughput():
    answer = FRONT.fewest_gpus(100_000, 30)
    ok = FRONT.points[FRONT.points["fits"] & (FRONT.points["tokens_per_second_per_user"] >= 30)]
    replicas = np.ceil(100_000 / (ok["tokens_per_second_per_gpu"] * ok["gpu_count"]))
    assert answer["total_gpus"] == (replicas * ok["gpu_count"]).min()
    assert answer["replicas"] * answer["gpu_count"] * answer["tokens_per_second_per_gpu"] >= 1e5


def test_layouts_the_model_cannot_take_are_left_out():
    # Llama 3.1 70B has 64 query heads: tensor parallelism of 128, or of 3 (no divisor), is
    # not a layout (the search's rule: llmphys.sizing.layouts.layouts_allowed)
    front = F.frontier(SCENARIO, over={"batch": [1], "tp": [3, 64, 128]})
    assert sorted(front.points["tp"].unique()) == [64]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        (("batch", "tpp"), "no default grid for 'tpp'; did you mean 'tp'"),
        ({"batch": []}, "the axis 'batch' has no values"),
        (("hardware",), "give the hardware to compare"),
    ],
)
def test_bad_axes_say_why(over, message):
    with pytest.raises(F.LlmphysError, match=message):
        F.frontier(SCENARIO, over=over)


def test_the_plot_draws_each_curve_on_log_axes():
    import matplotlib

    matplotlib.use("Agg")
    from llmphys import plots

    ax = plots.throughput_frontier(FRONT)
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    labels = [line.get_label() for line in ax.get_lines()]
    assert "tp=8, weights=fp8" in labels and "Pareto set" in labels
    assert "tp=1, weights=bf16" not in labels  # no point of it fits


def test_cli_frontier(capsys):
    import json

    from llmphys.cli import main

    args = ["frontier", "--model", "llama-3.1-70b", "--weights", "fp8", "--over", "tp=4,8",
            "--over", "batch=1,16,128", "--floor", "50", "--json"]  # fmt: skip
    code = main(args)
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["axes"] == ["tp", "batch"]
    front = F.frontier(SCENARIO.replace(tp=1), over={"tp": [4, 8], "batch": [1, 16, 128]})
    want = front.pareto.to_dict(orient="records")
    assert [p["batch"] for p in out["points"]] == [p["batch"] for p in want]
    assert [p["tokens_per_second_per_gpu"] for p in out["points"]] == pytest.approx(
        [p["tokens_per_second_per_gpu"] for p in want]
    )
    assert main(["frontier", "--over", "batch=1,x"]) == 2


def test_the_pareto_helper_examples():
    import doctest

    import llmphys.pareto

    assert doctest.testmod(llmphys.pareto).failed == 0
