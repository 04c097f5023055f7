"""The efficiency model: a real engine's forward pass in a few physical terms beside the
roofline.

The roofline bound assumes every FLOP at the peak rate and every byte at the peak bandwidth,
and nothing else.  Published runs take 1.25 to 6.5 times as long (``llmphys validate``), and
not by one factor: a 128-token prefill reaches a fifth to a third of the bound where a
2,048-token one reaches about two thirds, and a batch-1 decode step of a small model loses more
to fixed costs than one of a large model.  Four terms, each something a profiler shows,
account for it:

* the achieved bandwidth fraction (MBU, ``bw_utilization``): what a large weight read reaches;
* a FLOP utilization that saturates with the tokens of the pass (``saturated_utilization``):
  a matmul of n rows keeps the tensor cores busy only when n fills their tiles and waves, so
  MFU = eta_F n / (n + n_1/2);
* a fixed cost per pass (``step_overhead``): scheduling, sampling, host synchronisation;
* a fixed cost per layer (``layer_overhead``): the launch and tail of each layer's kernels.

Tensor-parallel all-reduces keep their alpha-beta cost (:mod:`llmphys.parallel_time`).  Under
the ``efficiency`` feature (which the ``typical`` assumption set switches on) every prefill and
decode step takes these terms; :mod:`llmphys.calibration` fits their values to published
measurements.

Sources: Williams, Waterman & Patterson, "Roofline" (CACM 2009); the saturating efficiency
n / (n + n_1/2) is Hockney's half-performance length (Hockney & Jesshope, *Parallel Computers
2*, 1988); per-kernel launch costs: NVIDIA CUDA Graphs documentation.
"""

from __future__ import annotations

from functools import partial

from llmphys import latency, parallel_time  # noqa: F401  (the steps these terms wrap)
from llmphys.engine import formula
from llmphys.engine.variants import declare_feature

__all__ = [
    "EFFICIENCY",
    "decode_step_time_calibrated",
    "pass_overhead",
    "prefill_step_time_calibrated",
    "saturated_utilization",
]

_HOCKNEY = "Hockney & Jesshope, Parallel Computers 2 (1988): half-performance length n_1/2"

#: the efficiency model: saturating MFU and fixed costs per pass and per layer
EFFICIENCY = declare_feature(
    "efficiency",
    "the efficiency model: FLOP utilization saturating in the tokens of a pass, and a fixed "
    "cost per pass and per layer (fitted to published runs)",
    wraps=True,
)

#: the ``@formula`` of a calibrated step: the efficiency model's variant of a roofline step (its
#: unit, source and feature; the step it replaces and its symbol given)
_calibrated_step = partial(
    formula,
    unit="second",
    source=f"roofline with {_HOCKNEY}; fixed costs per pass and per layer",
    feature=EFFICIENCY,
)


@formula(
    unit="",
    latex=r"\eta_{\mathrm{F}}(n)",
    source=_HOCKNEY,
)
def saturated_utilization(utilization, step_tokens, mfu_half_tokens):
    """FLOP utilization of a pass of n tokens: the large-pass MFU times n / (n + n_1/2).

    Notes
    -----
    - A matmul of n rows fills the tensor cores' tiles and the GPU's waves only when n is
      large: at n = n_1/2 it reaches half of its large-pass utilization eta_F.
    - n_1/2 = 0 gives eta_F at every size (the roofline's constant utilization).
    - Prefill's n is B S_p: a short prompt's matmuls are too short to fill the GPU.  Decode
      steps do not take it (``decode_step_time_calibrated``).

    Examples
    --------
    >>> print(saturated_utilization(utilization=0.6, step_tokens=512, mfu_half_tokens=512))
    0.3
    """
    return utilization * step_tokens / (step_tokens + mfu_half_tokens)


@formula(
    unit="second",
    latex=r"t_{\mathrm{fixed}}",
    source="NVIDIA CUDA Graphs documentation (per-kernel launch cost); vLLM and SGLang "
    "scheduler profiles (per-step host time)",
)
def pass_overhead(step_overhead, layer_overhead, layers):
    """Fixed time of one forward pass beside its roofline time: once per pass, and once per
    layer the pass goes through.

    Notes
    -----
    - The per-pass term is the engine's host time: scheduling the batch, sampling, copying
      the tokens back.
    - The per-layer term is what each layer's kernels cost beyond their bytes and FLOPs: the
      launches (fewer under CUDA graphs) and the tail of each kernel, where the GPU is not
      full.  A deep small model pays it most, relative to its bytes.

    Examples
    --------
    >>> q = pass_overhead(step_overhead=0.002, layer_overhead=20e-6, layers=80)
    >>> print(f"{q.to('ms'):.4g~P}")
    3.6 ms
    """
    return step_overhead + layers * layer_overhead


@_calibrated_step(
    latex=r"t_{\mathrm{prefill,step}}^{\mathrm{eff}}",
    replaces="prefill_step_time",
)
def prefill_step_time_calibrated(
    prefill_step_time, saturated_utilization, batch, prompt_len, pass_overhead
):
    """A prefill step as an engine runs it: the roofline at the FLOP utilization of a pass of
    B S_p tokens, plus the fixed cost of a pass.

    Notes
    -----
    - Short prompts prefill below the large-pass FLOP rate: at the fitted n_1/2 of about 130
      tokens a 128-token prompt reaches half of it.
    - On several GPUs the roofline step is the layout's (split over n_TP, its all-reduces
      added).

    Examples
    --------
    An 8B model in BF16 on an H100 SXM at the fitted values: a 2,048-token prompt, then a
    128-token one (a sixteenth of the tokens, a seventh of the time):

    >>> kw = dict(params=8e9, active_params=8e9, layers=32, n_heads=32, n_kv_heads=8,
    ...     head_dim=128, batch=1, hidden=4096, bytes_per_param="bf16", kv_bytes="bf16",
    ...     act_bytes="bf16", peak_flops=989e12, utilization=0.62, mem_bandwidth=3.35e12,
    ...     bw_utilization=0.8, causal_factor=0.5, flash_attention=1, step_overhead=0,
    ...     layer_overhead=73e-6, mfu_half_tokens=132)
    >>> for n in (2048, 128):
    ...     print(f"{prefill_step_time_calibrated(prompt_len=n, **kw).to('ms'):.4g~P}")
    61.13 ms
    9.135 ms
    """
    tokens = batch * prompt_len
    return (
        prefill_step_time.at(utilization=saturated_utilization.at(step_tokens=tokens))
        + pass_overhead
    )


@_calibrated_step(latex=r"t_{\mathrm{step}}^{\mathrm{eff}}", replaces="decode_step_time")
def decode_step_time_calibrated(decode_step_time, pass_overhead):
    """A decode step as an engine runs it: the roofline step plus the fixed cost of a pass.

    Notes
    -----
    - At small batches the step is memory-bound and the fixed cost is what separates it from
      the bandwidth bound: a small model at batch 1 loses a larger share to it.
    - The FLOP utilization does not saturate here as in prefill: a small batch's matmuls run
      as matrix-vector products bound by the weight read, which the memory term already
      counts (a Hockney n_1/2 on B would count that read twice); a large batch is past n_1/2.
    - On several GPUs the roofline step is the layout's (its all-reduces included).

    Examples
    --------
    >>> q = decode_step_time_calibrated(decode_step_time=0.010, pass_overhead=0.002)
    >>> print(f"{q.to('ms'):.4g~P}")
    12 ms
    """
    return decode_step_time + pass_overhead
