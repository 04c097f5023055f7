"""Communication between the GPUs of a layout: the bytes a token puts on the wire under
tensor, pipeline and expert parallelism, and the time of the collectives that move them.

Communication follows the alpha-beta model (Thakur, Rabenseifner & Gropp 2005; NCCL's own
tuning model): a collective takes a latency per hop plus its bytes over the link bandwidth.  The
layout and its per-GPU memory are in :mod:`llmphys.parallel`; the step times that wait for this
communication in :mod:`llmphys.parallel_time`.
"""

from __future__ import annotations

from llmphys import parallel  # noqa: F401  (the layout's formulas are parts below)
from llmphys.engine import formula
from llmphys.parallel import ALPHA_BETA, MEGATRON, PIPELINE

__all__ = [
    "ep_alltoall_bytes_per_token",
    "ep_alltoall_count",
    "ep_alltoall_time",
    "ep_dispatch_bytes_per_token",
    "pp_comm_bytes_per_token",
    "pp_send_time",
    "token_activation_bytes",
    "tp_allreduce_count",
    "tp_allreduce_time",
    "tp_comm_bytes_per_token",
]


# ----------------------------------------------------------------------------- bytes on the wire
@formula(
    unit="byte/token",
    latex=r"D_{\mathrm{act}}",
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
