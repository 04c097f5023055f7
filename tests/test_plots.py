"""llmphys.plots: each plot draws (Agg, no display), labels its axes with units, and shows the
numbers of the formulas it is drawn from."""

from __future__ import annotations

import doctest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import llmphys as F
from llmphys import plots
from llmphys.engine.formatting import format_quantity
from llmphys.units import Q_

from support import defaults_for

PLOTS = [plots.roofline, plots.memory_breakdown, plots.context_frontier, plots.bandwidth_vs_batch]
# what each needs to have something to draw (70B in BF16 needs two 80 GB GPUs for any context)
ARGS = {
    plots.roofline: {},
    plots.memory_breakdown: {"seq_len": [1000, 10000]},
    plots.context_frontier: {"n_gpus": 2},
    plots.bandwidth_vs_batch: {},
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn(ax):
    """Render the figure (mathtext and layout errors surface here) and return the axes."""
    ax.figure.canvas.draw()
    return ax


def defaults(name: str, **changes) -> dict[str, float]:
    return {**defaults_for(F.registry[name]), **changes}


def curve(ax, label_start: str) -> tuple[np.ndarray, np.ndarray]:
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith(label_start))
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


# ----------------------------------------------------------------- every plot
@pytest.mark.parametrize("plot", PLOTS, ids=[p.__name__ for p in PLOTS])
def test_draws_and_labels_axes_with_units(plot):
    ax = drawn(plot(**ARGS[plot]))
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        assert label.endswith("]") and " [" in label, label
    assert ax.get_title()


@pytest.mark.parametrize("plot", PLOTS, ids=[p.__name__ for p in PLOTS])
def test_draws_with_model_and_hardware_presets(plot):
    ax = drawn(plot(model="llama-3.1-70b", hardware="h100-sxm", **ARGS[plot]))
    assert "Llama-3.1-70B" in ax.get_title() + " ".join(
        t.get_text() for t in ax.get_legend().get_texts()
    )


@pytest.mark.parametrize("plot", PLOTS, ids=[p.__name__ for p in PLOTS])
def test_draws_on_a_given_axes(plot):
    _, ax = plt.subplots()
    assert plot(ax=ax, **ARGS[plot]) is ax


@pytest.mark.parametrize("plot", PLOTS, ids=[p.__name__ for p in PLOTS])
def test_a_misspelt_input_is_refused(plot):
    with pytest.raises(F.UnknownNameError, match="'layer' is not an input of the formulas drawn"):
        plot(layer=80, **ARGS[plot])


def test_module_doctests():
    result = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# ----------------------------------------------------------------- roofline
def test_roofline_labels_and_points():
    ax = drawn(plots.roofline(batch=[1, 64]))
    assert ax.get_xlabel() == "arithmetic intensity [FLOP/B]"
    assert ax.get_ylabel() == "attainable FLOP rate [TFLOP/s]"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    # the roof is attainable_flops over the intensity
    x, y = curve(ax, "roof")
    roof = F.attainable_flops.lambdify()
    peak, bandwidth = F.glossary["peak_flops"].default, F.glossary["mem_bandwidth"].default
    expect = F.attainable_flops(
        peak_flops=peak, mem_bandwidth=bandwidth, arithmetic_intensity=x
    ).to("TFLOP/s")
    np.testing.assert_allclose(y, expect.magnitude, rtol=1e-12)
    assert roof is F.attainable_flops.lambdify()
    # the ridge point is ridge_point's
    ridge = F.ridge_point(peak_flops=peak, mem_bandwidth=bandwidth).magnitude
    assert any(
        np.allclose(line.get_xdata(), ridge)
        for line in ax.get_lines()
        if line.get_linestyle() == ":"
    )
    # decode at arithmetic_intensity, one point per batch
    decode = next(c for c in ax.collections if c.get_label() == "decode")
    points = decode.get_offsets()
    for b, (xi, yi) in zip((1, 64), points, strict=True):
        intensity = F.arithmetic_intensity(**defaults("arithmetic_intensity", batch=b))
        assert xi == pytest.approx(intensity.magnitude, rel=1e-12)
        rate = F.attainable_flops(**defaults("attainable_flops", batch=b)).to("TFLOP/s")
        assert yi == pytest.approx(rate.magnitude, rel=1e-12)
    prefill = next(c for c in ax.collections if c.get_label() == "prefill")
    intensity = F.prefill_intensity(**defaults("prefill_intensity", batch=1))
    assert prefill.get_offsets()[0][0] == pytest.approx(intensity.magnitude, rel=1e-12)


def test_roofline_decode_below_and_long_prefill_above_the_ridge_with_flash_attention():
    ax = plots.roofline(hardware="a100-80gb", flash_attention=1, prompt_len=10000)
    ridge = F.hardware["a100-80gb"].values()
    ridge = F.ridge_point(peak_flops=ridge["peak_flops"], mem_bandwidth=ridge["mem_bandwidth"])
    decode = next(c for c in ax.collections if c.get_label() == "decode").get_offsets()[0]
    prefill = next(c for c in ax.collections if c.get_label() == "prefill").get_offsets()[0]
    assert decode[0] < ridge.magnitude < prefill[0]
    assert "roofline at bf16" in ax.get_title()


# ----------------------------------------------------------------- memory
def test_memory_breakdown_stacks_the_parts_of_total_vram_per_gpu():
    ax = drawn(plots.memory_breakdown(seq_len=[1000, 100000], n_gpus=2))
    assert ax.get_ylabel() == "memory per GPU [GB]"
    secondary = [c for c in ax.child_axes if c.get_ylabel() == "[GiB]"]
    assert len(secondary) == 1  # the GiB scale beside the GB one
    bars = ax.patches
    assert len(bars) == 3 * 2  # weights, KV, workspace for each of two contexts
    for i, s in enumerate((1000, 100000)):
        heights = sum(bars[2 * j + i].get_height() for j in range(3))
        total = F.memory_per_gpu(**defaults("memory_per_gpu", seq_len=s, n_gpus=2))
        assert heights == pytest.approx(total.to("GB").magnitude, rel=1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "capacity $M_{\\mathrm{GPU}}$: 85.9 GB = 80 GiB"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["S = 1000", "S = 100000"]
    assert ax.get_xlabel() == "S [tok]"
    texts = [t.get_text() for t in ax.texts]
    per_gpu = F.memory_per_gpu(**defaults("memory_per_gpu", seq_len=1000, n_gpus=2))
    total = F.total_vram(**defaults("total_vram", seq_len=1000))
    assert f"{format_quantity(per_gpu)}\n{format_quantity(per_gpu, binary=True)}" in texts
    assert f"{format_quantity(total)}\n{format_quantity(total, binary=True)}" not in texts


def test_memory_breakdown_with_an_accelerator_shows_its_label_and_exact_capacity():
    ax = drawn(plots.memory_breakdown(hardware="a100-80gb", bytes_per_param=["bf16", "int4"]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == 'NVIDIA A100 80GB SXM4 ("80 GB"): 85.9 GB = 80 GiB'
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b_w = bf16", "b_w = int4"]
    assert ax.get_ylabel() == "memory [GB]"


def test_memory_breakdown_refuses_two_varying_inputs():
    with pytest.raises(
        F.InputError, match="one input can vary across the bars; got batch, seq_len"
    ):
        plots.memory_breakdown(batch=[1, 2], seq_len=[1000, 2000])


# ----------------------------------------------------------------- frontier
def test_context_frontier_is_the_symbolic_inverse():
    ax = drawn(plots.context_frontier(n_gpus=2))
    assert ax.get_xlabel() == "batch [seq]"
    assert ax.get_ylabel() == "largest context [tok]"
    b, s = curve(ax, "")
    given = {k: v for k, v in defaults("memory_per_gpu", n_gpus=2).items()}
    given.pop("seq_len")
    capacity = Q_(F.glossary["gpu_memory"].default, "B")
    for i in (0, len(b) // 2, len(b) - 1):
        solved = F.solve(
            "memory_per_gpu", "seq_len", target=capacity, **{**given, "batch": round(b[i])}
        )
        if b[i] == round(b[i]):
            assert s[i] == pytest.approx(solved.exact.magnitude, rel=1e-9)
    legend = ax.get_legend().get_texts()[0].get_text()
    # 2 x 85.9 GB - 156.8 GB of weights and workspace, over 327,680 B per token: 45,772 / B
    assert legend.endswith("S = 45772/B")
    assert "defaults: " in legend


def test_context_frontier_numeric_inverse_for_sliding_windows():
    ax = drawn(plots.context_frontier(model="gemma-3-27b", hardware="h100-sxm"))
    legend = ax.get_legend().get_texts()[0].get_text()
    assert legend.endswith("numeric inverse")
    _, s = curve(ax, "Gemma")
    assert np.nanmax(s) > 1e4


def test_context_frontier_explains_when_nothing_fits():
    with pytest.raises(F.InfeasibleError, match=r"already exceed 85\.9 GB"):
        plots.context_frontier(params=400e9)


def test_context_frontier_refuses_its_axes_as_inputs():
    with pytest.raises(F.InputError, match="'seq_len' is an axis of the plot"):
        plots.context_frontier(seq_len=1000)


# ----------------------------------------------------------------- bandwidth
def test_bandwidth_vs_batch_curves_and_lines():
    ax = drawn(plots.bandwidth_vs_batch(throughput=100))
    assert ax.get_ylabel() == "required bandwidth [TB/s]"
    b, y = curve(ax, "$\\mathit{BW}_{\\mathrm{cons}}$")
    expect = F.bandwidth_conservative(**defaults("bandwidth_conservative", throughput=100, batch=b))
    np.testing.assert_allclose(y, expect.to("TB/s").magnitude, rtol=1e-12)
    b, y = curve(ax, "$\\mathit{BW}_{\\mathrm{opt}}$")
    expect = F.bandwidth_optimistic(**defaults("bandwidth_optimistic", throughput=100, batch=b))
    np.testing.assert_allclose(y, expect.to("TB/s").magnitude, rtol=1e-12)
    peak = curve(ax, "peak")[1]
    assert peak[0] == pytest.approx(2.039)
    effective = curve(ax, "effective")[1]
    assert effective[0] == pytest.approx(2.039 * 0.6)
    smallest = F.solve(
        "bandwidth_conservative",
        "batch",
        target=Q_(2.039, "TB/s"),
        **{
            k: v
            for k, v in defaults("bandwidth_conservative", throughput=100).items()
            if k != "batch"
        },
    )
    assert f"B ≥ {smallest.value.magnitude} fits the peak" in [t.get_text() for t in ax.texts]
    assert ax.get_title().startswith("decode bandwidth at 100 tok/s")
