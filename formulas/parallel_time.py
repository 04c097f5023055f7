"""Time of a parallel layout: the decode step (per-GPU roofline of each stage plus the
communication it waits for, through the pipeline), its throughput, the prefill split over the
tensor-parallel group, and the pipeline's idle fractions.

Decode step time with parallelism: each stage is a per-GPU roofline (the larger of its compute
and memory time) plus the communication not hidden behind compute; a step lasts
max(n_mb, n_PP) stage times.  The layout and its memory are in :mod:`llmphys.parallel`, the
collectives in :mod:`llmphys.communication`.
"""

from __future__ import annotations

import sympy

from llmphys import communication, moe  # noqa: F401  (the collectives, expert reads: parts)
from llmphys.engine import formula
from llmphys.parallel import ALPHA_BETA, MEGATRON, PIPELINE, VLLM_TP

__all__ = [
    "active_weights_per_gpu",
    "comm_to_memory_ratio",
    "decode_pipeline_idle_fraction",
    "decode_step_time_parallel",
    "decode_throughput_parallel",
    "exposed_comm_time",
    "kv_traffic_per_gpu",
    "pipeline_bubble_fraction",
    "prefill_comm_time",
    "prefill_step_time_parallel",
    "stage_comm_time",
    "stage_comm_time_moe",
    "stage_decode_compute_time",
    "stage_decode_memory_time",
    "stage_decode_memory_time_moe",
    "stage_decode_time",
    "tokens_per_second_per_gpu_parallel",
]


# ----------------------------------------------------------------------------- a decode step
@formula(
    unit="second",
    latex=r"t_{\mathrm{comm,stage}}",
    source=f"{MEGATRON}; {PIPELINE}; {ALPHA_BETA}",
)
def stage_comm_time(
    tp_allreduce_count,
    layers_per_stage,
    tp_allreduce_time,
    microbatch_size,
    attention_groups,
    token_activation_bytes,
    pp,
    pp_send_time,
):
    """Communication of one pipeline stage for one micro-batch's decode step: the stage's
    all-reduces and its send onward.

    Notes
    -----
    - Two all-reduces per layer of the stage, each of one token's hidden state per sequence of
      the attention group.
    - One point-to-point send per stage when there are several (none at n_PP = 1): the
      activations to the next stage, and from the last stage the sampled tokens back to the
      first (counted at the activations' size: its latency is what matters).
    - Mixture-of-experts models add their all-to-alls: ``stage_comm_time_moe``.

    Examples
    --------
    >>> q = stage_comm_time(layers=80, pp=1, batch=1, n_microbatches=1, tp=8, ep=1,
    ...                     hidden=8192, act_bytes="bf16", link_bandwidth=300e9,
    ...                     link_latency=0.6e-6)
    >>> print(f"{q.to('ms'):.4g~P}")
    1.359 ms
    """
    message = microbatch_size / attention_groups * token_activation_bytes
    return tp_allreduce_count.at(layers=layers_per_stage) * tp_allreduce_time.at(
        message_bytes=message
    ) + sympy.Min(pp - 1, 1, evaluate=False) * pp_send_time.at(message_bytes=message)


@formula(
    unit="second",
    latex=r"t_{\mathrm{comm,stage}}^{\mathrm{MoE}}",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 3.2; " + ALPHA_BETA,
    replaces="stage_comm_time",
    feature="moe",
)
def stage_comm_time_moe(
    stage_comm_time,
    ep_alltoall_count,
    moe_layers,
    layers_per_stage,
    layers,
    ep_alltoall_time,
    microbatch_size,
    gpus_per_stage,
    ep_dispatch_bytes_per_token,
):
    """Communication of one pipeline stage of a mixture-of-experts model for one micro-batch:
    the tensor- and pipeline-parallel part plus the experts' dispatch and combine.

    Notes
    -----
    - Replaces ``stage_comm_time`` (same unit) for a mixture of experts
      (a model with experts swaps it in: ``model.formula(...)``).
    - The stage's expert layers (its share of L_MoE) each dispatch and combine: every GPU sends
      the k expert copies of its own tokens (B_mb / n_stage of them).
    - Meant for n_EP > n_TP, where tokens live on different GPUs.  With experts inside the
      tensor-parallel group (n_EP <= n_TP) every GPU already has every token and the
      all-reduce combines: leave n_EP = 1 there.

    Examples
    --------
    >>> q = stage_comm_time_moe(layers=61, moe_layers=58, pp=1, batch=256, n_microbatches=1,
    ...     tp=1, ep=32, hidden=7168, act_bytes="bf16", experts_per_token=8,
    ...     link_bandwidth=50e9, link_latency=2.7e-6)
    >>> print(f"{q.to('ms'):.4g~P}")
    11.77 ms
    """
    return stage_comm_time + ep_alltoall_count.at(
        moe_layers=moe_layers * layers_per_stage / layers
    ) * ep_alltoall_time.at(
        message_bytes=microbatch_size / gpus_per_stage * ep_dispatch_bytes_per_token
    )


@formula(
    unit="second",
    latex=r"t_{\mathrm{comm,exp}}",
    source="alpha-beta communication with a visible overlap fraction (0: communication and "
    "compute take turns); Narayanan et al. (SC 2021) on overlapping communication with compute",
)
def exposed_comm_time(comm_overlap, stage_comm_time):
    """Communication time a stage waits for: the part not hidden behind compute.

    Notes
    -----
    - f_ov = 0 (the default): communication and compute take turns, as in a decode step whose
      every all-reduce needs the matmul before it and feeds the one after.
    - f_ov = 1: fully hidden (e.g. overlapping one micro-batch's communication with another's
      compute).

    Examples
    --------
    >>> print(exposed_comm_time(comm_overlap=0.25, stage_comm_time=0.002))
    0.0015 s
    """
    return (1 - comm_overlap) * stage_comm_time


@formula(
    unit="second",
    latex=r"t_{\mathrm{decode,C,GPU}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); " + MEGATRON,
)
def stage_decode_compute_time(decode_compute_time, microbatch_size, pp, gpus_per_stage):
    """Compute time of one GPU for one stage's decode step of a micro-batch: its share of the
    step's FLOPs at the effective rate.

    Notes
    -----
    - The micro-batch's decode FLOPs over the n_PP x n_stage GPUs, evenly: tensor parallelism
      splits every matmul, data-parallel attention groups split the sequences.
    - Replicated work (norms, replicated KV heads' attention) is not added: a lower bound.

    Examples
    --------
    >>> q = stage_decode_compute_time(active_params=70e9, layers=80, hidden=8192,
    ...     prompt_len=5, new_tokens=200, batch=1, n_microbatches=1, peak_flops=312e12,
    ...     utilization=1, tp=8, ep=1, pp=1)
    >>> print(f"{q.to('us'):.4g~P}")
    56.2 µs
    """
    return decode_compute_time.at(batch=microbatch_size) / (pp * gpus_per_stage)


@formula(
    unit="byte",
    latex=r"M_{\mathrm{w,a,GPU}}",
    source="seed: MoE / Resource Implications / Bandwidth (active_bytes), per GPU; " + MEGATRON,
)
def active_weights_per_gpu(active_params_per_gpu, bytes_per_param):
    """Weight bytes one GPU reads per decode step for one token's path: its active parameters
    at the weights' precision.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("active_weights_per_gpu")
    >>> q = f(**m.inputs_for(f), bytes_per_param="bf16", tp=8, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    17.38 GB
    """
    return active_params_per_gpu * bytes_per_param


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{KV,GPU}}",
    source=f"{VLLM_TP}; seed: Bandwidth Bottleneck / KV Cache Streaming, per GPU",
)
def kv_traffic_per_gpu(kv_traffic, kv_heads_per_gpu, layers_per_stage):
    """KV-cache bytes one GPU moves per decoded token of a sequence: the KV traffic of its KV
    heads and its stage's layers.

    Examples
    --------
    >>> q = kv_traffic_per_gpu(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
    ...                        prompt_len=10000, new_tokens=0, tp=8, pp=1)
    >>> print(f"{q.to('MB/token'):.4g~P}")
    409.6 MB/tok
    """
    return kv_traffic.at(n_kv_heads=kv_heads_per_gpu, layers=layers_per_stage)


@formula(
    unit="second",
    latex=r"t_{\mathrm{decode,M,GPU}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); seed: Bandwidth "
    "Bottleneck (Decode Phase), per GPU",
)
def stage_decode_memory_time(
    active_weights_per_gpu,
    kv_traffic_per_gpu,
    microbatch_size,
    attention_groups,
    effective_bandwidth,
):
    """Memory time of one GPU for one stage's decode step of a micro-batch: the weights it reads
    and its KV cache, over its own bandwidth.

    Notes
    -----
    - The single-GPU decode memory time at one GPU's view: the active weights it holds
      (``active_weights_per_gpu``, read once per step), and for each sequence of its attention
      group the KV cache of its KV heads and its stage's layers.
    - Every GPU streams from its own HBM at once: per-GPU bytes over per-GPU bandwidth.  This
      is where tensor parallelism pays: n_TP GPUs read 1 / n_TP each.
    - Sliding-window layers are not split by stage here (an overestimate at n_PP > 1).
    - A mixture of experts also reads the experts the rest of its batch reaches:
      ``stage_decode_memory_time_moe``.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("stage_decode_memory_time")
    >>> q = f(**m.inputs_for(f), bytes_per_param="bf16", kv_bytes="bf16", prompt_len=5,
    ...       new_tokens=200, batch=1, n_microbatches=1, mem_bandwidth=2039e9,
    ...       bw_utilization=1, tp=8, ep=1, pp=1)
    >>> print(f"{q.to('ms'):.4g~P}")
    8.525 ms
    """
    return (
        active_weights_per_gpu + microbatch_size / attention_groups * kv_traffic_per_gpu
    ) / effective_bandwidth


@formula(
    unit="second",
    latex=r"t_{\mathrm{decode,M,GPU}}^{\mathrm{MoE}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); uniform top-k routing "
    "(see experts_touched)",
    replaces="stage_decode_memory_time",
    feature="moe",
)
def stage_decode_memory_time_moe(
    stage_decode_memory_time,
    extra_expert_read,
    moe_layers,
    layers_per_stage,
    layers,
    microbatch_size,
    gpus_per_stage,
    effective_bandwidth,
):
    """Memory time of one GPU for one stage's decode step of a mixture of experts: the dense
    rule plus its share of the experts the micro-batch reaches beyond one token's.

    Notes
    -----
    - Replaces ``stage_decode_memory_time`` for a mixture of experts.
    - The whole micro-batch is routed together (its B_mb tokens reach E_touched experts per
      layer, across the attention groups); the stage holds its share L_stage / L of the expert
      layers, and its n_stage GPUs split them (by tensor parallelism: a slice of every
      expert; by expert parallelism: whole experts, E_touched / n_EP each on average).
    - At n_TP = n_PP = n_EP = 1 this is ``decode_memory_time`` of the mixture of experts.
    - A micro-batch of less than one sequence (more micro-batches than sequences) routes one.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["mixtral-8x7b"]
    >>> f = m.formula("stage_decode_memory_time")
    >>> q = f(**m.inputs_for(f), bytes_per_param="bf16", kv_bytes="bf16", prompt_len=128,
    ...       new_tokens=128, batch=8, n_microbatches=1, mem_bandwidth=2039e9,
    ...       bw_utilization=1, tp=2, ep=1, pp=1)
    >>> print(f"{q.to('ms'):.4g~P}")
    20.68 ms
    """
    routed = sympy.Max(microbatch_size, 1, evaluate=False)  # a step routes a token at least
    return stage_decode_memory_time + extra_expert_read.at(
        moe_layers=moe_layers * layers_per_stage / layers, batch=routed
    ) / (gpus_per_stage * effective_bandwidth)


@formula(
    unit="second",
    latex=r"t_{\mathrm{stage}}",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009), per GPU",
)
def stage_decode_time(stage_decode_compute_time, stage_decode_memory_time):
    """Roofline time of one stage's decode step of a micro-batch on one GPU: the larger of its
    compute and memory times.

    Examples
    --------
    >>> q = stage_decode_time(stage_decode_compute_time=5.6e-5, stage_decode_memory_time=8.5e-3)
    >>> print(q)
    0.0085 s
    """
    return sympy.Max(stage_decode_compute_time, stage_decode_memory_time, evaluate=False)


@formula(
    unit="second",
    latex=r"t_{\mathrm{step}}^{\mathrm{par}}",
    source=f"{PIPELINE}; Williams, Waterman & Patterson, 'Roofline' (CACM 2009)",
    replaces="decode_step_time",
    feature="layout",
)
def decode_step_time_parallel(n_microbatches, pp, stage_decode_time, exposed_comm_time):
    """Time of one decode step of a parallel layout (one token for every sequence): stage times
    of the micro-batches through the pipeline, communication included.

    Notes
    -----
    - A stage takes its per-GPU roofline time plus the communication it waits for
      (``exposed_comm_time``).
    - Pipeline: each micro-batch crosses the n_PP stages one after another, and a stage serves
      the micro-batches one after another.  With n_mb < n_PP the token's trip around the stages
      sets the pace (n_PP stage times: at one micro-batch, per-token latency is the *sum* over
      the stages, so pipelining never lowers latency); with n_mb >= n_PP every stage is busy
      and a step takes n_mb stage times of micro-batches n_mb times smaller.  Steady-state
      decode: the pipeline is not drained between steps.
    - Without pipeline and micro-batches (n_PP = n_mb = 1) this is the per-GPU roofline of the
      whole model plus the tensor-parallel all-reduces.

    Examples
    --------
    >>> q = decode_step_time_parallel(n_microbatches=1, pp=2, stage_decode_time=0.004,
    ...                               exposed_comm_time=0.0005)
    >>> print(f"{q.to('ms'):.4g~P}")
    9 ms
    """
    return sympy.Max(n_microbatches, pp, evaluate=False) * (stage_decode_time + exposed_comm_time)


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{par}}",
    source="roofline; the seed's batch amortization, over a parallel layout",
)
def decode_throughput_parallel(batch, decode_step_time):
    """Decode throughput of a parallel layout: every sequence of the batch gets a token per step.

    Notes
    -----
    - At batch 1 this is the speed one user sees, the figure gpt-fast reports.
    - The step is the deployment's: on a layout its ``decode_step_time_parallel`` (stages and
      communication), with the efficiency model's fixed costs when its assumptions have them.

    Examples
    --------
    >>> q = decode_throughput_parallel(batch=1, decode_step_time=0.0099)
    >>> print(f"{q:.4g~P}")
    101 tok/s
    """
    return batch / decode_step_time


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{GPU}}^{\mathrm{par}}",
    source="roofline; the seed's batch amortization, shared by the GPUs of a layout",
    replaces="tokens_per_second_per_gpu",
    feature="layout",
)
def tokens_per_second_per_gpu_parallel(tokens_per_second_per_user, batch, gpu_count):
    """Decode throughput per GPU of a parallel layout: every sequence of the batch gets a token
    per step, and the layout's GPUs share the work.

    Notes
    -----
    - The figure public inference benchmarks plot against tokens/s per user: a layout of
      n_GPU GPUs must earn n_GPU times one GPU's throughput to be as cheap per token.

    Examples
    --------
    >>> q = tokens_per_second_per_gpu_parallel(tokens_per_second_per_user=50, batch=32, tp=4,
    ...                                        ep=1, pp=1)
    >>> print(f"{q:.4g~P}")
    400 tok/s
    """
    return batch * tokens_per_second_per_user / gpu_count


@formula(
    unit="second",
    latex=r"t_{\mathrm{comm,prefill}}",
    source=f"{MEGATRON}; {ALPHA_BETA}",
)
def prefill_comm_time(
    tp_allreduce_count,
    tp_allreduce_time,
    batch,
    prompt_len,
    token_activation_bytes,
    pp,
    pp_send_time,
):
    """Communication of a prefill pass: the all-reduces of every prompt token's hidden state,
    and the sends between pipeline stages.

    Notes
    -----
    - Two all-reduces per layer, each of the hidden states of all B x S_p prompt tokens: prefill
      messages are large (Llama 3.1 70B, 4,096 tokens: 67 MB), so the bandwidth term
      dominates, unlike decode's.
    - n_PP - 1 sends of the same activations from stage to stage.
    - Not overlapped with compute (engines can overlap a chunk's all-reduce with the next
      chunk's matmuls; not modelled).

    Examples
    --------
    >>> q = prefill_comm_time(layers=80, tp=4, batch=1, prompt_len=4096, hidden=8192,
    ...     act_bytes="bf16", pp=1, link_bandwidth=450e9, link_latency=0.6e-6)
    >>> print(f"{q.to('ms'):.4g~P}")
    36.37 ms
    """
    message = batch * prompt_len * token_activation_bytes
    return tp_allreduce_count * tp_allreduce_time.at(message_bytes=message) + (
        pp - 1
    ) * pp_send_time.at(message_bytes=message)


@formula(
    unit="second",
    latex=r"t_{\mathrm{prefill,step}}^{\mathrm{par}}",
    source=f"{MEGATRON}; {PIPELINE}; Williams, Waterman & Patterson, 'Roofline' (CACM 2009)",
    replaces="prefill_step_time",
    feature="layout",
)
def prefill_step_time_parallel(prefill_step_time, tp, prefill_comm_time):
    """Prefill step of a parallel layout: the single-GPU roofline split over the n_TP GPUs that
    share every layer, plus the prefill's communication.

    Notes
    -----
    - Tensor parallelism splits every matmul (FLOPs / n_TP) and the weights each GPU reads
      (bytes / n_TP).
    - Pipeline stages take one prompt one after another: n_PP stages of L / n_PP layers each
      take as long as one GPU doing all L, so n_PP does not shorten a prefill (chunked
      pipelining of one prompt is not modelled).
    - Expert parallelism beyond n_TP is not counted as a speed-up: the attention of one prompt
      is not split over data-parallel groups.

    Examples
    --------
    >>> q = prefill_step_time_parallel(prefill_step_time=1.2, tp=4, prefill_comm_time=0.018)
    >>> print(f"{q.to('ms'):.4g~P}")
    318 ms
    """
    return prefill_step_time / tp + prefill_comm_time


@formula(
    unit="",
    latex=r"f_{\mathrm{bubble}}",
    source=PIPELINE + " (bubble (p - 1) / (m + p - 1) of a pass of m micro-batches)",
)
def pipeline_bubble_fraction(pp, n_microbatches):
    """Idle fraction of a pipeline stage during one pass of n_mb micro-batches (a prefill): the
    fill and drain of the pipeline.

    Notes
    -----
    - A pass takes n_mb + n_PP - 1 stage times; each stage works n_mb of them.
    - More micro-batches shrink the bubble: n_PP = 4 idles 75 % of the time with one
      micro-batch, 16 % with 16.  Decode in steady state has no fill and drain
      (``decode_pipeline_idle_fraction``).

    Examples
    --------
    >>> print(pipeline_bubble_fraction(pp=4, n_microbatches=16))
    0.15789473684210525
    """
    return (pp - 1) / (n_microbatches + pp - 1)


@formula(
    unit="",
    latex=r"f_{\mathrm{idle}}",
    source=PIPELINE,
)
def decode_pipeline_idle_fraction(n_microbatches, pp):
    """Idle fraction of a pipeline stage during steady-state decode: zero once there are as many
    micro-batches as stages.

    Notes
    -----
    - With n_mb < n_PP the token of each micro-batch must come back through every stage before
      its next step: a stage works n_mb of every n_PP stage times.

    Examples
    --------
    >>> print(decode_pipeline_idle_fraction(n_microbatches=1, pp=4))
    0.75
    """
    return 1 - n_microbatches / sympy.Max(n_microbatches, pp, evaluate=False)


@formula(
    unit="",
    latex=r"\rho_{\mathrm{comm}}",
    source="the JAX scaling book (jax-ml.github.io/scaling-book), inference chapter: sharding "
    "decode until communication, not memory bandwidth, sets the step time",
)
def comm_to_memory_ratio(exposed_comm_time, stage_decode_memory_time):
    """Exposed communication time of a stage over its per-GPU memory time.

    Notes
    -----
    - Raising n_TP shrinks the memory time (each GPU reads 1 / n_TP) and grows the
      communication (2 (n_TP - 1) hops per all-reduce).  Where the ratio reaches 1,
      communication outweighs what the memory time still is; solving it for n_TP
      (:func:`llmphys.sizing.layouts.tp_comm_limit`) gives the degree beyond which adding GPUs
      to the tensor-parallel group buys latency no more.  With memory time A / n_TP and
      communication c (n_TP - 1) the crossing is within 1/2 of the step-time minimum
      sqrt(A / c), where one more GPU saves as much memory time as it adds communication.

    Examples
    --------
    >>> q = comm_to_memory_ratio(exposed_comm_time=0.0013, stage_decode_memory_time=0.0085)
    >>> print(f"{q:.3g~P}")
    0.153
    """
    return exposed_comm_time / stage_decode_memory_time
