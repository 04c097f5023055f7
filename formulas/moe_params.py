"""Expert parameters: the weights of mixture-of-experts layers (routed and shared experts,
routers) and the feed-forward stacks they make, in total and per token.

A mixture-of-experts layer holds E routed and E_s shared experts (each a gated block of width
d_e) and a router (d x E, plus a per-expert bias in gpt-oss and DeepSeek-V3).  All of them are
stored (``moe_ffn_stack_params`` replaces ``ffn_stack_params`` in ``param_count``); a token
multiplies with the k experts it is routed to (``moe_active_ffn_stack_params`` replaces
``active_ffn_stack_params``).  The counting conventions are those of
:mod:`llmphys.param_counts`.
"""

from __future__ import annotations

from llmphys import param_counts  # noqa: F401  (ffn_params and the stacks are parts below)
from llmphys.engine import formula
from llmphys.param_counts import MODELS_MD

__all__ = [
    "expert_params",
    "expert_params_biased",
    "idle_expert_params",
    "mixed_ffn_stack_params",
    "moe_active_ffn_stack_params",
    "moe_ffn_params",
    "moe_ffn_stack_params",
    "router_params",
    "router_params_biased",
    "router_params_shared_gate",
]


# ----------------------------------------------------------------------------- experts
@formula(
    unit="parameter",
    latex=r"P_{\mathrm{e}}",
    source=f"{MODELS_MD} (expert FFN size)",
)
def expert_params(ffn_params, moe_intermediate_size):
    """Weights of one expert: a gated feed-forward block of the expert width d_e.

    Notes
    -----
    - Same shape as a dense block: 3 d d_e.  Mixtral's experts are as wide as a Mistral FFN
      (14,336); fine-grained MoE uses narrow ones (DeepSeek-V3 2,048, Qwen3 1,536).
    - A DeepSeek shared expert is one block of width E_s d_e: the same count as E_s experts.

    Examples
    --------
    >>> q = expert_params(hidden=7168, moe_intermediate_size=2048)
    >>> print(f"{q:,.0f~P}")
    44,040,192 param
    """
    return ffn_params.at(intermediate_size=moe_intermediate_size)


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{e}}^{\mathrm{b}}",
    source="gpt-oss architecture (HF transformers GptOssExperts: gate_up_proj_bias, "
    "down_proj_bias); openai/gpt-oss-120b model card (116,829,156,672 parameters)",
    replaces="expert_params",
    feature="expert_bias",
)
def expert_params_biased(expert_params, moe_intermediate_size, hidden):
    """Weights of one gpt-oss expert: the gated block plus its biases (2 d_e on gate/up, d on
    down).

    Examples
    --------
    >>> q = expert_params_biased(hidden=2880, moe_intermediate_size=2880)
    >>> print(f"{q:,.0f~P}")
    24,891,840 param
    """
    return expert_params + 2 * moe_intermediate_size + hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{router}}",
    source=f"{MODELS_MD} (Mixtral: router 4096 x 8 per layer)",
)
def router_params(hidden, n_experts):
    """Router (gate) weights of one mixture-of-experts layer: one score per routed expert.

    Notes
    -----
    - Every token computes all E scores, so the router is active in full.

    Examples
    --------
    >>> q = router_params(hidden=4096, n_experts=8)
    >>> print(f"{q:,.0f~P}")
    32,768 param
    """
    return hidden * n_experts


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{router}}^{\mathrm{b}}",
    source="gpt-oss (HF GptOssTopKRouter: bias) and DeepSeek-V3 (e_score_correction_bias, "
    "topk_method noaux_tc); the checkpoints' tensor counts on the Hugging Face hub",
    replaces="router_params",
    feature="router_bias",
)
def router_params_biased(router_params, n_experts):
    """Router weights of one layer plus one bias per routed expert.

    Notes
    -----
    - gpt-oss: a linear router with bias.  DeepSeek-V3: a per-expert score-correction bias used
      for load balancing without an auxiliary loss; it is in the checkpoint and counted.

    Examples
    --------
    >>> q = router_params_biased(hidden=7168, n_experts=256)
    >>> print(f"{q:,.0f~P}")
    1,835,264 param
    """
    return router_params + n_experts


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{router}}^{\mathrm{s\,gate}}",
    text="P_router^s-gate",
    source="HF transformers Qwen2MoeSparseMoeBlock: gate (d x E) and shared_expert_gate (d x 1)",
    replaces="router_params",
    feature="shared_expert_gate",
)
def router_params_shared_gate(router_params, hidden):
    """Router weights of one layer plus the shared expert's own one-output gate (d x 1), which
    scales the shared expert's output per token.

    Examples
    --------
    >>> q = router_params_shared_gate(hidden=2048, n_experts=60)
    >>> print(f"{q:,.0f~P}")
    124,928 param
    """
    return router_params + hidden


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{MoE}}",
    source=f"{MODELS_MD} (routed experts, shared experts, router)",
)
def moe_ffn_params(n_experts, n_shared_experts, expert_params, router_params):
    """Feed-forward weights of one mixture-of-experts layer: routed and shared experts plus the
    router.

    Notes
    -----
    - All of them must sit in memory (``weight_bytes`` follows the total), although a token
      uses only k routed experts.

    Examples
    --------
    >>> q = moe_ffn_params(n_experts=8, n_shared_experts=0, hidden=4096,
    ...                    moe_intermediate_size=14336)
    >>> print(f"{q:,.0f~P}")
    1,409,318,912 param
    """
    return (n_experts + n_shared_experts) * expert_params + router_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,all}}^{\mathrm{MoE}}",
    source=f"{MODELS_MD} (Mixtral, Qwen3-MoE, gpt-oss: experts in every layer)",
    replaces="ffn_stack_params",
    feature="moe",
)
def moe_ffn_stack_params(moe_layers, moe_ffn_params):
    """Feed-forward weights of all layers of a mixture-of-experts model whose every layer is an
    expert layer.

    Notes
    -----
    - Replaces ``ffn_stack_params`` (same unit) for Mixtral, Qwen3-MoE and gpt-oss.
    - Models that keep dense blocks in their first layers (DeepSeek) replace it in turn with
      ``mixed_ffn_stack_params``.

    Examples
    --------
    >>> q = moe_ffn_stack_params(moe_layers=32, hidden=4096, n_experts=8, n_shared_experts=0,
    ...                          moe_intermediate_size=14336)
    >>> print(f"{q.to('Gparam'):.6g~P}")
    45.0982 Gparam
    """
    return moe_layers * moe_ffn_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,all}}^{\mathrm{dense+MoE}}",
    source=f"{MODELS_MD} (DeepSeek-V3: first 3 layers dense, first_k_dense_replace, with "
    "intermediate_size 18432)",
    replaces="moe_ffn_stack_params",
    feature="dense_layers",
)
def mixed_ffn_stack_params(dense_layers, ffn_params, moe_ffn_stack_params):
    """Feed-forward weights of all layers of a mixture-of-experts model that keeps dense blocks
    in some layers: the dense blocks plus the expert layers.

    Notes
    -----
    - Replaces ``moe_ffn_stack_params`` (same unit) for DeepSeek-V2/V3
      (``first_k_dense_replace``) and Qwen3-MoE configs with ``mlp_only_layers``.
    - DeepSeek-V3: 3 dense layers of d_ff = 18,432, then 58 expert layers.

    Examples
    --------
    >>> q = mixed_ffn_stack_params(dense_layers=3, moe_layers=58, hidden=7168,
    ...                            intermediate_size=18432, n_experts=256, n_shared_experts=1,
    ...                            moe_intermediate_size=2048)
    >>> print(f"{q.to('Gparam'):.6g~P}")
    657.759 Gparam
    """
    return dense_layers * ffn_params + moe_ffn_stack_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{idle}}",
    source="seed: MoE / Architecture (active params: only activated experts); "
    f"{MODELS_MD} (experts, active per token)",
)
def idle_expert_params(moe_layers, n_experts, experts_per_token, expert_params):
    """Expert weights a token does not use: the E - k routed experts it is not sent to, in every
    expert layer.

    Notes
    -----
    - In memory but not in the token's compute.  Which experts are idle changes per token; a
      batch touches more of them (``moe_weight_read``).
    - Mixtral: 6 of 8 experts in each of 32 layers, 33.8B of its 46.7B.

    Examples
    --------
    >>> q = idle_expert_params(moe_layers=32, n_experts=8, experts_per_token=2, hidden=4096,
    ...                        moe_intermediate_size=14336)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    33.82 Gparam
    """
    return moe_layers * (n_experts - experts_per_token) * expert_params


@formula(
    unit="parameter",
    latex=r"P_{\mathrm{FFN,a}}^{\mathrm{MoE}}",
    source="seed: MoE / Architecture (active params: only activated experts)",
    replaces="active_ffn_stack_params",
    feature="moe",
)
def moe_active_ffn_stack_params(moe_ffn_stack_params, idle_expert_params):
    """Feed-forward weights a token uses in a mixture-of-experts model: every block except the
    experts it is not routed to.

    Notes
    -----
    - Replaces ``active_ffn_stack_params`` (same unit).
    - Includes the dense blocks (if any), the shared experts, the k routed-in experts and the
      router.

    Examples
    --------
    >>> q = moe_active_ffn_stack_params(moe_layers=32, hidden=4096, n_experts=8,
    ...                                 n_shared_experts=0, experts_per_token=2,
    ...                                 moe_intermediate_size=14336)
    >>> print(f"{q.to('Gparam'):.4g~P}")
    11.28 Gparam
    """
    return moe_ffn_stack_params - idle_expert_params
