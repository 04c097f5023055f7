"""Multi-GPU inference: tensor, pipeline and expert parallelism, per-GPU memory, communication
and the decode step of a layout.

The seed lists distributed inference as "not modeled"; its own examples need it (Llama 3.1 70B
"fits on 2x A100", DeepSeek-V3's 1,342 GB against 8x H100 "too small").  A layout has three
degrees (``tp``, ``pp``, ``ep``) and an interconnect (``link_bandwidth``, ``link_latency``):

* **Tensor parallelism** (Megatron-LM, Shoeybi et al. 2019) splits every layer over n_TP GPUs:
  attention by heads (q and o projections n_h / n_TP heads each; k and v by KV heads, each GPU
  keeping at least one, so they are *replicated* once n_TP > n_kv), the feed-forward block by
  columns (gate, up) and rows (down), the embedding and output head by vocabulary rows.  Norms
  stay replicated; so do MLA's shared down-projections and latent cache.  Two all-reduces of a
  token's hidden state per layer (after attention, after the feed-forward block) join the parts.
* **Pipeline parallelism** gives each of n_PP stages L / n_PP layers (the most loaded stage when
  the split is uneven: ``layers_per_stage`` may be given directly).  A token crosses the stages
  one after another: at one micro-batch, per-token latency is the *sum* over stages; with
  n_mb >= n_PP micro-batches in flight every stage is busy and throughput scales.
* **Expert parallelism** spreads the routed experts over n_EP GPUs, whole experts each.  Up to
  n_TP it reuses the tensor-parallel GPUs (each then holds 1/n_TP of the expert bytes either
  way: leave n_EP = 1, the all-reduce already combines).  Above n_TP, a stage has n_EP GPUs and
  attention runs data-parallel on n_EP / n_TP groups with their own share of the batch; tokens
  then reach their experts by all-to-all (dispatch and combine).  Dense feed-forward blocks and
  shared experts are split over the same GPUs.

What a GPU holds and reads is built from the single-GPU formulas at substituted inputs (the
parameter counts at n_h / n_TP heads, the KV cache at the KV heads one GPU keeps, the decode
memory time at one GPU's weights), so an architecture's variants (MLA, sliding windows, MoE)
carry over through ``llmphys.models[name].formula(...)``.  Communication follows the alpha-beta
model (Thakur, Rabenseifner & Gropp 2005; NCCL's own tuning model): a collective takes a
latency per hop plus its bytes over the link bandwidth.

Decode step time with parallelism: each stage is a per-GPU roofline (the larger of its compute
and memory time) plus the communication not hidden behind compute; a step lasts
max(n_mb, n_PP) stage times.  The inverse questions (fewest GPUs and which n_TP x n_PP, largest
batch at a layout, the n_TP beyond which communication outweighs the memory-time saving) are in
:mod:`llmphys.parallel_sizing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from llmphys import latency, memory, param_counts  # noqa: F401  (formulas used below as parts)
from llmphys.engine import formula

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "active_params_per_gpu",
    "attention_groups",
    "attention_params_per_gpu",
    "comm_to_memory_ratio",
    "decode_pipeline_idle_fraction",
    "decode_step_time_parallel",
    "decode_throughput_parallel",
    "ep_alltoall_bytes_per_token",
    "ep_alltoall_count",
    "ep_alltoall_time",
    "ep_dispatch_bytes_per_token",
    "exposed_comm_time",
    "gpu_count",
    "gpus_per_stage",
    "kv_cache_per_gpu",
    "kv_heads_per_gpu",
    "layers_per_stage",
    "microbatch_size",
    "params_per_gpu",
    "pipeline_bubble_fraction",
    "pp_comm_bytes_per_token",
    "pp_send_time",
    "prefill_comm_time",
    "prefill_step_time_parallel",
    "stage_comm_time",
    "stage_comm_time_moe",
    "stage_decode_compute_time",
    "stage_decode_memory_time",
    "stage_decode_time",
    "token_activation_bytes",
    "tokens_per_second_per_gpu_parallel",
    "tp_allreduce_count",
    "tp_allreduce_time",
    "tp_comm_bytes_per_token",
    "vram_per_gpu",
    "weights_per_gpu",
    "workspace_per_gpu",
]

MEGATRON = "Shoeybi et al., 'Megatron-LM' (arXiv:1909.08053), section 3 (tensor parallelism)"
PIPELINE = (
    "Narayanan et al., 'Efficient Large-Scale Language Model Training on GPU Clusters Using "
    "Megatron-LM' (SC 2021), section 2.2 (pipeline bubble)"
)
ALPHA_BETA = (
    "Thakur, Rabenseifner & Gropp, 'Optimization of Collective Communication Operations in "
    "MPICH' (IJHPCA 2005); NCCL src/graph/tuning.cc (latency per step plus bytes over bandwidth)"
)
VLLM_TP = (
    "vLLM tensor-parallel layers (QKVParallelLinear replicates KV heads when tp > n_kv; "
    "VocabParallelEmbedding, ParallelLMHead; MLA's q_a/kv_a projections replicated)"
)


# ----------------------------------------------------------------------------- the layout
@formula(
    unit="",
    latex=r"n_{\mathrm{stage}}",
    text="n_stage",
    source="SGLang data-parallel attention with expert parallelism (DeepSeek-V3 serving); "
    "TensorRT-LLM moe_tp_size x moe_ep_size = tp_size",
)
def gpus_per_stage(tp, ep):
    """GPUs of one pipeline stage: the tensor-parallel group, or the expert-parallel group when
    it is larger.

    Notes
    -----
    - n_EP <= n_TP: the experts are spread over the tensor-parallel GPUs themselves (TensorRT-LLM
      requires moe_tp x moe_ep = tp), so a stage has n_TP GPUs.
    - n_EP > n_TP: a stage has n_EP GPUs; attention is tensor-parallel over n_TP of them and
      data-parallel over n_EP / n_TP such groups (``attention_groups``).

    Examples
    --------
    >>> print(gpus_per_stage(tp=1, ep=8))
    8.0
    """
    return sympy.Max(tp, ep, evaluate=False)


@formula(
    unit="",
    latex=r"n_{\mathrm{DP,attn}}",
    text="n_DP,attn",
    source="SGLang data-parallel attention (each group holds its own requests' KV cache)",
)
def attention_groups(gpus_per_stage, tp):
    """Data-parallel attention groups of a stage: 1 unless expert parallelism spans more GPUs
    than tensor parallelism.

    Notes
    -----
    - Each group runs attention for its own share of the batch and holds only those
      sequences' KV cache: the reason DeepSeek-V3 is served with data-parallel attention (its
      MLA latent cache is replicated by tensor parallelism, not split).

    Examples
    --------
    >>> print(attention_groups(tp=2, ep=8))
    4.0
    """
    return gpus_per_stage / tp


@formula(
    unit="",
    latex=r"n_{\mathrm{GPU,layout}}",
    text="n_GPU,layout",
    source=MEGATRON,
)
def gpu_count(gpus_per_stage, pp):
    """GPUs of a layout: the GPUs of one stage times the pipeline stages.

    Examples
    --------
    >>> print(gpu_count(tp=8, ep=1, pp=2))
    16.0
    """
    return pp * gpus_per_stage


@formula(
    unit="",
    latex=r"L_{\mathrm{stage}}",
    text="L_stage",
    source=PIPELINE,
)
def layers_per_stage(layers, pp):
    """Layers of one pipeline stage: the layers split evenly over the stages.

    Notes
    -----
    - Exact when n_PP divides L.  An uneven split (DeepSeek-V3's 61 layers over 2 stages: 31
      and 30) loads the largest stage with ceil(L / n_PP) layers: give that value for this part
      (``layers_per_stage=31``), as :func:`llmphys.parallel_sizing.fewest_gpus` does.
    - Memory, KV cache and decode time of the most loaded stage follow it.

    Examples
    --------
    >>> print(layers_per_stage(layers=80, pp=4))
    20.0
    """
    return layers / pp


@formula(
    unit="",
    latex=r"n_{\mathrm{kv,GPU}}",
    text="n_kv,GPU",
    source=f"{VLLM_TP}; {MEGATRON}",
)
def kv_heads_per_gpu(n_kv_heads, tp):
    """KV heads one GPU keeps under tensor parallelism: its share, and at least one.

    Notes
    -----
    - Each GPU computes attention for n_h / n_TP query heads and needs the keys and values of
      their groups: n_kv / n_TP KV heads while n_TP <= n_kv.
    - Beyond that a KV head cannot be split: each GPU keeps one, and a KV head is *replicated*
      on n_TP / n_kv GPUs.  Llama 3.1 70B (8 KV heads) caches as much per GPU at n_TP = 16 as at
      n_TP = 8.
    - Multi-head latent attention has no KV heads: its latent is cached whole on every
      tensor-parallel GPU (the substitution does not apply to it).

    Examples
    --------
    >>> print(kv_heads_per_gpu(n_kv_heads=8, tp=16))
    1.0
    """
    return sympy.Max(n_kv_heads / tp, 1, evaluate=False)


@formula(
    unit="sequence",
    latex=r"B_{\mathrm{mb}}",
    text="B_mb",
    source=PIPELINE,
)
def microbatch_size(batch, n_microbatches):
    """Sequences of one micro-batch: the batch split into n_mb micro-batches.

    Examples
    --------
    >>> print(microbatch_size(batch=64, n_microbatches=4))
    16.0 seq
    """
    return batch / n_microbatches


# ----------------------------------------------------------------------------- memory per GPU
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{attn,GPU}}",
    text="P_attn,GPU",
    source=f"{MEGATRON}; {VLLM_TP}",
)
def attention_params_per_gpu(attention_params, kv_width, hidden, n_heads, tp, kv_heads_per_gpu):
    """Attention weights of one layer that one tensor-parallel GPU holds.

    Notes
    -----
    - The attention parameters at n_h / n_TP heads: the q and o projections are split by heads
      (column- and row-parallel), and so are MLA's per-head up-projections (q_b, kv_b) and its
      output projection.
    - The k and v projections are split by KV heads, at least one per GPU: the second term
      swaps the full KV width for the KV heads one GPU keeps, so they are *replicated* once
      n_TP > n_kv.  For MLA that term is zero: its shared down-projections (q_a, kv_a with the
      rotary key) and their norms stay replicated, as vLLM runs them.
    - Llama 3.1 70B at n_TP = 8: 2 x 8,192 x 8 x 128 for q and o plus 8,192 x 2 x 128 for
      one KV head's k and v = 18.9M of the layer's 151M.

    Examples
    --------
    >>> q = attention_params_per_gpu(hidden=8192, n_heads=64, n_kv_heads=8, head_dim=128, tp=8)
    >>> print(f"{q:,.0f~P}")
    18,874,368 param
    """
    return attention_params.at(n_heads=n_heads / tp) - hidden * (
        kv_width - kv_width.at(n_kv_heads=kv_heads_per_gpu)
    )


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{GPU}}",
    text="N_GPU",
    source=f"{MEGATRON}; {PIPELINE}; {VLLM_TP}",
)
def params_per_gpu(
    embedding_matrices,
    embedding_params,
    pp,
    tp,
    layers_per_stage,
    attention_params_per_gpu,
    layer_norm_params,
    ffn_stack_params,
    hidden,
    gpus_per_stage,
    layers,
):
    """Parameters one GPU of the most loaded pipeline stage holds.

    Notes
    -----
    - Embeddings: the vocabulary rows are split over the tensor-parallel GPUs
      (vocabulary-parallel embedding and output head).  With several stages the input
      embedding sits on the first, the output head on the last: a stage holds one of the two
      untied tables (n_emb / min(n_PP, n_emb)); a tied table is needed, and kept, at both ends.
    - Each of the stage's L_stage layers: attention split by heads (``attention_params_per_gpu``)
      and the norms, *replicated* on every GPU.
    - Feed-forward: the stage's share L_stage / L of the whole stack, split over the stage's
      GPUs (the stack at d / n_stage): dense blocks by columns and rows, routed experts whole
      by expert parallelism (or split by tensor parallelism: the same bytes), shared experts
      and routers with them (a router is really replicated: below 0.2 GB for DeepSeek-V3).
      DeepSeek's 3 dense layers are averaged over the stages: exact at n_PP = 1.
    - The final norm is counted on every GPU.  At n_TP = n_PP = n_EP = 1 this is the
      architecture's parameter count, exactly.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("params_per_gpu")
    >>> print(f"{f(**m.inputs_for(f), tp=8, pp=1, ep=1).to('Gparam'):.4g~P}")
    8.82 Gparam
    """
    return (
        embedding_matrices
        / sympy.Min(pp, embedding_matrices, evaluate=False)
        * embedding_params
        / tp
        + layers_per_stage * (attention_params_per_gpu + layer_norm_params)
        + ffn_stack_params.at(hidden=hidden / gpus_per_stage) * layers_per_stage / layers
        + hidden
    )


@formula(
    unit="parameter",
    latex=r"N_{\mathrm{a,GPU}}",
    text="N_a,GPU",
    source=f"{MEGATRON}; {PIPELINE}; shared/reference/models.md (active conventions)",
)
def active_params_per_gpu(
    embedding_params,
    tp,
    layers_per_stage,
    attention_params_per_gpu,
    layer_norm_params,
    active_ffn_stack_params,
    hidden,
    gpus_per_stage,
    layers,
):
    """Parameters one GPU of the last pipeline stage multiplies with per token: what a decode
    step reads of its weights.

    Notes
    -----
    - As ``params_per_gpu`` with the active feed-forward weights (the routed-in experts,
      shared experts, routers and dense blocks) and without the input-embedding table, a row
      lookup; the output head (vocabulary-parallel) is read in full.  The last stage, which
      holds the head, reads the most.
    - Experts are taken as evenly loaded: each GPU reads its 1 / n_stage of the k routed-in
      experts.  At batch 1 with k < n_stage some GPUs read a whole expert and others none, and
      a larger batch touches more experts: both make the real step slower, never faster.
    - At n_TP = n_PP = n_EP = 1 this is the architecture's active parameter count, exactly.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("active_params_per_gpu")
    >>> print(f"{f(**m.inputs_for(f), tp=8, pp=1, ep=1).to('Gparam'):.4g~P}")
    8.689 Gparam
    """
    return (
        embedding_params / tp
        + layers_per_stage * (attention_params_per_gpu + layer_norm_params)
        + active_ffn_stack_params.at(hidden=hidden / gpus_per_stage) * layers_per_stage / layers
        + hidden
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{w,GPU}}",
    text="M_w,GPU",
    source="seed: Memory Hierarchy / Model Weights ('Fits on: 2x A100 80GB'); " + MEGATRON,
)
def weights_per_gpu(weight_bytes, params_per_gpu):
    """Weight bytes one GPU of the layout holds: its parameters times the bytes per parameter.

    Notes
    -----
    - The seed's "fits on 2x A100 80GB" for Llama 3.1 70B in BF16: 70.6 GB per GPU at n_TP = 2,
      within the 85.9 GB (80 GiB) each holds.
    - Replicated parts (norms, KV heads beyond n_kv, MLA's shared projections, embeddings over
      the pipeline ends) make this more than the even split weight_bytes / n_GPU.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("weights_per_gpu")
    >>> q = f(**m.inputs_for(f), bytes_per_param="bf16", tp=2, pp=1, ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    70.56 GB
    """
    return weight_bytes.at(params=params_per_gpu)


@formula(
    unit="byte",
    latex=r"M_{\mathrm{KV,GPU}}",
    text="M_KV,GPU",
    source=f"{VLLM_TP}; DeepSeek-V2 technical report (arXiv:2405.04434), Table 1 (MLA)",
)
def kv_cache_per_gpu(
    kv_cache_bytes, kv_heads_per_gpu, batch, attention_groups, layers_per_stage, layers
):
    """KV-cache bytes one GPU holds: its KV heads, its stage's layers, its attention group's
    sequences.

    Notes
    -----
    - GQA/MHA: the KV cache at the KV heads one GPU keeps (``kv_heads_per_gpu``): split by
      n_TP up to n_kv, *replicated* beyond.  Llama 3.1 70B caches the same per GPU at n_TP = 16
      as at n_TP = 8.
    - MLA: the latent (d_c + d_h^R per layer) has no heads and is cached whole on every
      tensor-parallel GPU: the KV-head substitution does not apply, n_TP does not shrink it.
      Only data-parallel attention (n_EP > n_TP) splits it, by sequences.
    - Pipeline stages hold their share L_stage / L of the layers (sliding-window models: the
      average layer).

    Examples
    --------
    >>> q = kv_cache_per_gpu(layers=80, n_kv_heads=8, head_dim=128, kv_bytes="bf16",
    ...                      seq_len=32768, batch=8, tp=8, ep=1, pp=1)
    >>> print(q.to("GiB"))
    10.0 GiB
    """
    return (
        kv_cache_bytes.at(n_kv_heads=kv_heads_per_gpu, batch=batch / attention_groups)
        * layers_per_stage
        / layers
    )


@formula(
    unit="byte",
    latex=r"M_{\mathrm{ws,GPU}}",
    text="M_ws,GPU",
    source="seed: Memory Hierarchy / Workspace / Activations (weight_bytes * 0.12), per GPU",
)
def workspace_per_gpu(workspace_bytes, params_per_gpu):
    """Workspace one GPU needs: the seed's fraction of the weights, of the weights it holds.

    Examples
    --------
    >>> import llmphys as F
    >>> m = F.models["llama-3.1-70b"]
    >>> f = m.formula("workspace_per_gpu")
    >>> q = f(**m.inputs_for(f), bytes_per_param="bf16", workspace_fraction=0.12, tp=2, pp=1,
    ...       ep=1)
    >>> print(f"{q.to('GB'):.4g~P}")
    8.467 GB
    """
    return workspace_bytes.at(params=params_per_gpu)


@formula(
    unit="byte",
    latex=r"M_{\mathrm{GPU}}^{\mathrm{need}}",
    text="M_GPU^need",
    source="seed: Memory Hierarchy / Total VRAM, per GPU of a parallel layout",
    replaces="memory_per_gpu",
    feature="layout",
)
def vram_per_gpu(weights_per_gpu, kv_cache_per_gpu, workspace_per_gpu):
    """Memory one GPU of the layout needs: its weights, its KV cache and its workspace.

    Notes
    -----
    - The layout fits when this is within one GPU's capacity (``gpu_memory``).
    - Unlike ``memory_per_gpu`` (the total split evenly), replicated parts are counted on every
      GPU that holds them.

    Examples
    --------
    >>> print(vram_per_gpu(weights_per_gpu=70.6e9, kv_cache_per_gpu=1.6e9,
    ...                    workspace_per_gpu=8.5e9).to("GB"))
    80.7 GB
    """
    return weights_per_gpu + kv_cache_per_gpu + workspace_per_gpu


# ----------------------------------------------------------------------------- bytes on the wire
@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{act}}",
    text="D_act",
    source=MEGATRON,
)
def token_activation_bytes(hidden, act_bytes):
    """Bytes of one token's hidden state: what an all-reduce, a pipeline send or an expert
    dispatch moves per token.

    Examples
    --------
    >>> print(token_activation_bytes(hidden=8192, act_bytes="bf16").to("kB/token"))
    16.384 kB/tok
    """
    return hidden * act_bytes


@formula(
    unit="",
    latex=r"n_{\mathrm{AR}}",
    text="n_AR",
    source=f"{MEGATRON} (two all-reduces per layer in the forward pass)",
)
def tp_allreduce_count(layers):
    """All-reduces per token under tensor parallelism: two per layer.

    Notes
    -----
    - Attention's output projection and the feed-forward block's down projection are
      row-parallel: each GPU holds a partial sum of the layer's output, and an all-reduce
      adds them up.  Llama 3.1 70B: 160 per token.

    Examples
    --------
    >>> print(tp_allreduce_count(layers=80))
    160.0
    """
    return 2 * layers


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{TP}}",
    text="D_TP",
    source=MEGATRON,
)
def tp_comm_bytes_per_token(tp_allreduce_count, token_activation_bytes):
    """Bytes all-reduced per token under tensor parallelism: every all-reduce of the token's
    hidden state.

    Notes
    -----
    - The payload of the all-reduces, whatever n_TP; a ring moves 2 (n_TP - 1) / n_TP of it
      over each GPU's link (``tp_allreduce_time``).
    - Llama 3.1 70B in BF16: 160 x 16,384 B = 2.6 MB per token.

    Examples
    --------
    >>> q = tp_comm_bytes_per_token(layers=80, hidden=8192, act_bytes="bf16")
    >>> print(f"{q.to('MB/token'):.6g~P}")
    2.62144 MB/tok
    """
    return tp_allreduce_count * token_activation_bytes


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{PP}}",
    text="D_PP",
    source=PIPELINE,
)
def pp_comm_bytes_per_token(pp, token_activation_bytes):
    """Bytes sent point-to-point per token between pipeline stages: the hidden state at each of
    the n_PP - 1 stage boundaries.

    Examples
    --------
    >>> print(pp_comm_bytes_per_token(pp=4, hidden=8192, act_bytes="bf16").to("kB/token"))
    49.152 kB/tok
    """
    return (pp - 1) * token_activation_bytes


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{EP}}^{\mathrm{layer}}",
    text="D_EP^layer",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 3.2 (dispatch and "
    "combine all-to-all); DeepEP",
)
def ep_dispatch_bytes_per_token(experts_per_token, token_activation_bytes):
    """Bytes one token sends to its experts in one mixture-of-experts layer: its hidden state to
    each of the k routed experts (the combine brings as many back).

    Examples
    --------
    >>> print(ep_dispatch_bytes_per_token(experts_per_token=8, hidden=7168,
    ...                                   act_bytes="bf16").to("kB/token"))
    114.688 kB/tok
    """
    return experts_per_token * token_activation_bytes


@formula(
    unit="",
    latex=r"n_{\mathrm{A2A}}",
    text="n_A2A",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 3.2 (dispatch and combine)",
)
def ep_alltoall_count(moe_layers):
    """All-to-alls per token under expert parallelism: dispatch and combine in every
    mixture-of-experts layer.

    Examples
    --------
    >>> print(ep_alltoall_count(moe_layers=58))
    116.0
    """
    return 2 * moe_layers


@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{EP}}",
    text="D_EP",
    source="DeepSeek-V3 technical report (arXiv:2412.19437), section 3.2 (dispatch and "
    "combine all-to-all)",
)
def ep_alltoall_bytes_per_token(ep_alltoall_count, ep_dispatch_bytes_per_token):
    """Bytes a token exchanges with its experts over all mixture-of-experts layers: top-k x
    hidden x bytes, dispatched and combined in every expert layer.

    Notes
    -----
    - With n_EP GPUs and uniform routing, (n_EP - 1) / n_EP of it leaves the GPU
      (``ep_alltoall_time``).
    - DeepSeek-V3 in BF16: 116 x 8 x 7,168 x 2 B = 13.3 MB per token (DeepSeek dispatches in FP8,
      act_bytes = 1, and combines in BF16).

    Examples
    --------
    >>> q = ep_alltoall_bytes_per_token(moe_layers=58, experts_per_token=8, hidden=7168,
    ...                                 act_bytes="bf16")
    >>> print(f"{q.to('MB/token'):.4g~P}")
    13.3 MB/tok
    """
    return ep_alltoall_count * ep_dispatch_bytes_per_token


# ----------------------------------------------------------------------------- collectives
@formula(
    unit="second",
    latex=r"t_{\mathrm{AR}}",
    text="t_AR",
    source=ALPHA_BETA + " (ring all-reduce: 2 (n - 1) steps)",
)
def tp_allreduce_time(message_bytes, tp, link_bandwidth, link_latency):
    """Time of one ring all-reduce over the n_TP GPUs of a tensor-parallel group.

    Notes
    -----
    - A ring all-reduce is a reduce-scatter then an all-gather: 2 (n_TP - 1) steps, each
      sending D_msg / n_TP bytes over every GPU's link in one direction and paying one hop's
      latency.  Bandwidth term 2 (n_TP - 1) / n_TP x D_msg / BW_link, latency term
      2 (n_TP - 1) alpha.
    - Decode messages are small (one token's hidden state per sequence: 16 kB for Llama 3.1
      70B), so the latency term dominates: 160 all-reduces x 14 hops x 0.6 us = 1.3 ms per
      token at n_TP = 8 on NVLink.
    - Left out: NCCL's fixed launch latency per collective (6.6 us in its tuning model), and
      tree or NVLink-SHARP algorithms that beat the ring on latency.  Zero at n_TP = 1.

    Examples
    --------
    >>> q = tp_allreduce_time(message_bytes=16384, tp=8, link_bandwidth=300e9,
    ...                       link_latency=0.6e-6)
    >>> print(f"{q.to('us'):.4g~P}")
    8.496 µs
    """
    return 2 * (tp - 1) / tp * message_bytes / link_bandwidth + 2 * (tp - 1) * link_latency


@formula(
    unit="second",
    latex=r"t_{\mathrm{p2p}}",
    text="t_p2p",
    source=ALPHA_BETA + " (send/receive)",
)
def pp_send_time(message_bytes, link_bandwidth, link_latency):
    """Time of one point-to-point send between pipeline stages: one hop plus the bytes over the
    link.

    Examples
    --------
    >>> q = pp_send_time(message_bytes=16384, link_bandwidth=50e9, link_latency=2.7e-6)
    >>> print(f"{q.to('us'):.4g~P}")
    3.028 µs
    """
    return message_bytes / link_bandwidth + link_latency


@formula(
    unit="second",
    latex=r"t_{\mathrm{A2A}}",
    text="t_A2A",
    source=ALPHA_BETA + " (pairwise-exchange all-to-all: n - 1 steps)",
)
def ep_alltoall_time(message_bytes, ep, link_bandwidth, link_latency):
    """Time of one all-to-all over the n_EP GPUs of an expert-parallel group.

    Notes
    -----
    - Each GPU holds D_msg bytes for the others; with uniform routing (n_EP - 1) / n_EP of it
      leaves the GPU, one peer per step: n_EP - 1 hops.
    - Zero at n_EP = 1: with every expert on the GPU nothing moves.

    Examples
    --------
    >>> q = ep_alltoall_time(message_bytes=1e6, ep=8, link_bandwidth=450e9,
    ...                      link_latency=0.6e-6)
    >>> print(f"{q.to('us'):.4g~P}")
    6.144 µs
    """
    return (ep - 1) / ep * message_bytes / link_bandwidth + (ep - 1) * link_latency


# ----------------------------------------------------------------------------- a decode step
@formula(
    unit="second",
    latex=r"t_{\mathrm{comm,stage}}",
    text="t_comm,stage",
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
    text="t_comm,stage^MoE",
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
    text="t_comm,exp",
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
    text="t_decode,C,GPU",
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
    unit="second",
    latex=r"t_{\mathrm{decode,M,GPU}}",
    text="t_decode,M,GPU",
    source="Williams, Waterman & Patterson, 'Roofline' (CACM 2009); seed: Bandwidth "
    "Bottleneck (Decode Phase), per GPU",
)
def stage_decode_memory_time(
    decode_memory_time,
    active_params_per_gpu,
    kv_heads_per_gpu,
    layers_per_stage,
    microbatch_size,
    attention_groups,
):
    """Memory time of one GPU for one stage's decode step of a micro-batch: the weights it reads
    and its KV cache, over its own bandwidth.

    Notes
    -----
    - The single-GPU decode memory time at one GPU's view: the active weights it holds
      (``active_params_per_gpu``, read once per step), and for each sequence of its attention
      group the KV cache of its KV heads and its stage's layers.
    - Every GPU streams from its own HBM at once: per-GPU bytes over per-GPU bandwidth.  This
      is where tensor parallelism pays: n_TP GPUs read 1 / n_TP each.
    - Sliding-window layers are not split by stage here (an overestimate at n_PP > 1).

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
    return decode_memory_time.at(
        active_params=active_params_per_gpu,
        n_kv_heads=kv_heads_per_gpu,
        layers=layers_per_stage,
        batch=microbatch_size / attention_groups,
    )


@formula(
    unit="second",
    latex=r"t_{\mathrm{stage}}",
    text="t_stage",
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
    text="t_step^par",
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
    text="R_par",
    source="roofline; the seed's batch amortization, over a parallel layout",
)
def decode_throughput_parallel(batch, decode_step_time_parallel):
    """Decode throughput of a parallel layout: every sequence of the batch gets a token per step.

    Notes
    -----
    - At batch 1 this is the speed one user sees, the figure gpt-fast reports.

    Examples
    --------
    >>> q = decode_throughput_parallel(batch=1, decode_step_time_parallel=0.0099)
    >>> print(f"{q:.4g~P}")
    101 tok/s
    """
    return batch / decode_step_time_parallel


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{GPU}}^{\mathrm{par}}",
    text="R_GPU^par",
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
    text="t_comm,prefill",
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
    text="t_prefill,step^par",
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
    text="f_bubble",
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
    text="f_idle",
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
    text="ρ_comm",
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
      (:func:`llmphys.parallel_sizing.tp_comm_limit`) gives the degree beyond which adding GPUs
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
