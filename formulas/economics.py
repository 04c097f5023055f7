"""Serving economics: what a token costs in money and energy, and what speculative decoding
buys.

A deployment's decode throughput per GPU (``tokens_per_second_per_gpu``, from the roofline step
time) turns a price per GPU-hour into a price per token, and a board power into joules per
token; a facility's overhead (PUE) turns those into what a provisioned megawatt yields.
Speculative decoding changes the step, not the roofline: a draft proposes gamma tokens, the
target verifies them in one step and keeps the accepted prefix plus one of its own.

llmphys ships no prices: ``price_per_gpu_hour`` is the user's (the glossary default is an
example, labelled as one).

Sources: Leviathan, Kalman & Matias, "Fast Inference from Transformers via Speculative
Decoding" (ICML 2023), Theorem 3.8 and Eq. 1; The Green Grid, "PUE: a comprehensive examination
of the metric" (2012) for the definition of PUE.
"""

from __future__ import annotations

import sympy

from llmphys import latency  # noqa: F401  (tokens_per_second_per_gpu is a part below)
from llmphys.engine import formula
from llmphys.units import unit_symbol

__all__ = [
    "cost_per_million_tokens",
    "energy_per_token",
    "facility_energy_per_token",
    "spec_speedup",
    "spec_tokens_per_step",
    "tokens_per_megawatt",
]

HOUR = unit_symbol("hour")
SECOND = unit_symbol("second")
#: one hour written as the seconds it holds, beside ``HOUR``: the price is per hour, the
#: throughput per second
SECONDS_PER_HOUR = 3600 * SECOND
#: a million tokens as tokens, and a megawatt as watts: prices are quoted per million tokens,
#: yields per provisioned megawatt
PER_MILLION_TOKENS = 10**6 * unit_symbol("token") / unit_symbol("Mtoken")
PER_MEGAWATT = 10**6 * unit_symbol("watt") / unit_symbol("MW")

_LEVIATHAN = (
    "Leviathan, Kalman & Matias, 'Fast Inference from Transformers via Speculative Decoding' "
    "(ICML 2023)"
)


# ----------------------------------------------------------------------------- cost
@formula(
    unit="USD/Mtoken",
    latex=r"c_{\mathrm{tok}}",
    text="c_tok",
    source="the price of a GPU-hour over the tokens one GPU decodes in it",
)
def cost_per_million_tokens(price_per_gpu_hour, tokens_per_second_per_gpu):
    """What one output token costs: a GPU-hour's price over the tokens one GPU decodes in an
    hour (quoted per million tokens).

    Notes
    -----
    - Decode only, at the deployment's throughput per GPU (batch / step time / GPUs): a
      larger batch lowers the price per token and the tokens per second each user sees.
    - Idle time, the prefill of the prompts and a margin are not in it: a floor on a price.
    - $2 per GPU-hour at 3,000 tokens/s per GPU: $0.185 per million tokens.

    Examples
    --------
    >>> q = cost_per_million_tokens(price_per_gpu_hour=2, tokens_per_second_per_gpu=3000)
    >>> print(f"{q:.4g~P}")
    0.1852 USD/Mtok
    """
    return (
        PER_MILLION_TOKENS
        * price_per_gpu_hour
        * HOUR
        / (tokens_per_second_per_gpu * SECONDS_PER_HOUR)
    )


# ----------------------------------------------------------------------------- energy
@formula(
    unit="joule/token",
    latex=r"E_{\mathrm{tok}}",
    text="E_tok",
    source="energy = power x time: the board's draw over the tokens it decodes per second",
)
def energy_per_token(board_power, tokens_per_second_per_gpu):
    """Energy one GPU spends per decoded token: its power draw over its token rate.

    Notes
    -----
    - The board's own draw; the facility's cooling and power conversion come on top
      (``facility_energy_per_token``).
    - 700 W at 3,000 tokens/s per GPU: 0.233 J per token.

    Examples
    --------
    >>> q = energy_per_token(board_power=700, tokens_per_second_per_gpu=3000)
    >>> print(f"{q:.3g~P}")
    0.233 J/tok
    """
    return board_power / tokens_per_second_per_gpu


@formula(
    unit="joule/token",
    latex=r"E_{\mathrm{tok}}^{\mathrm{fac}}",
    text="E_tok^fac",
    source="The Green Grid, PUE (facility power / IT equipment power)",
)
def facility_energy_per_token(energy_per_token, pue):
    """Energy the facility draws per decoded token: the GPU's share times the power usage
    effectiveness (cooling and conversion on top of the IT load).

    Examples
    --------
    >>> q = facility_energy_per_token(board_power=700, tokens_per_second_per_gpu=3000, pue=1.2)
    >>> print(f"{q:.3g~P}")
    0.28 J/tok
    """
    return pue * energy_per_token


@formula(
    unit="token/second/MW",
    latex=r"T_{\mathrm{MW}}",
    text="T_MW",
    source="The Green Grid, PUE; tokens per second per provisioned watt",
)
def tokens_per_megawatt(tokens_per_second_per_gpu, board_power, pue):
    """Tokens per second a provisioned megawatt of facility power decodes (quoted per MW):
    each GPU's token rate over the facility power it takes.

    Examples
    --------
    >>> q = tokens_per_megawatt(tokens_per_second_per_gpu=3000, board_power=700, pue=1.2)
    >>> print(f"{q:,.0f~P}")
    3,571,429 tok/MW/s
    """
    return PER_MEGAWATT * tokens_per_second_per_gpu / (board_power * pue)


# ----------------------------------------------------------------------------- speculation
@formula(
    unit="token",
    latex=r"\tau_{\mathrm{spec}}",
    text="tau_spec",
    source=f"{_LEVIATHAN}, Eq. 1: expected tokens per target step (1 - a^(g+1)) / (1 - a)",
)
def spec_tokens_per_step(acceptance_rate, draft_tokens):
    """Expected tokens one target-model step yields with speculative decoding: the accepted
    prefix of the gamma drafted tokens plus the target's own next token.

    Notes
    -----
    - Each drafted token is accepted with probability alpha (independently): the step yields
      1 + alpha + ... + alpha^gamma tokens on average.
    - At alpha = 1 every draft is accepted: gamma + 1 tokens (the closed form's limit, written
      as its own case).
    - alpha = 0.8, gamma = 4: 3.3616 tokens per step.

    Examples
    --------
    >>> print(spec_tokens_per_step(acceptance_rate=0.8, draft_tokens=4))
    3.3616 tok
    """
    a, g = acceptance_rate, draft_tokens
    return sympy.Piecewise((g + 1, sympy.Eq(a, 1)), ((1 - a ** (g + 1)) / (1 - a), True))


@formula(
    unit="",
    latex=r"S_{\mathrm{spec}}",
    text="S_spec",
    source=f"{_LEVIATHAN}, Theorem 3.8 (walltime improvement)",
)
def spec_speedup(spec_tokens_per_step, draft_tokens, draft_cost_ratio):
    """Decode speed-up of speculative decoding: tokens per step over the step's cost, gamma
    draft steps of relative cost c and one target step.

    Notes
    -----
    - Assumes the verification step costs one ordinary decode step: memory-bound decode reads
      the same weights for gamma + 1 tokens as for one.  Its extra KV entries and FLOPs are
      small next to that until the batch makes the step compute-bound.
    - Below 1 when the drafts are rarely accepted or too costly.

    Examples
    --------
    >>> q = spec_speedup(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    >>> print(f"{q:.4g~P}")
    2.801
    """
    return spec_tokens_per_step / (draft_tokens * draft_cost_ratio + 1)
