"""Serving economics: what a token costs in money and energy.

A deployment's decode throughput per GPU (``tokens_per_second_per_gpu``, from the roofline step
time) turns a price per GPU-hour into a price per token, and a board power into joules per
token; a facility's overhead (PUE) turns those into what a provisioned megawatt yields.

llmphys ships no prices: ``price_per_gpu_hour`` is the user's (the glossary default is an
example, labelled as one).

Source: The Green Grid, "PUE: a comprehensive examination
of the metric" (2012) for the definition of PUE.
"""

from __future__ import annotations

import sympy

from llmphys import latency, parallel  # noqa: F401  (parts below: rates, the GPU count)
from llmphys.engine import formula
from llmphys.units import Q_, unit_symbol

__all__ = [
    "cost_per_million_at_rate",
    "cost_per_million_input_tokens",
    "cost_per_million_tokens",
    "energy_per_token",
    "facility_energy_per_token",
    "power_draw",
    "prefill_tokens_per_second_per_gpu",
    "prefill_tokens_per_second_per_gpu_parallel",
    "tokens_per_megawatt",
]

HOUR = unit_symbol("hour")
SECOND = unit_symbol("second")


def _as(unit: str, base: str) -> sympy.Expr:
    """One ``unit`` written in ``base`` units, its factor read off the unit registry (the
    expression's numbers then stay right: unit symbols count as 1)."""
    factor = sympy.Rational(repr(Q_(1, unit).to(base).magnitude))  # exact: 3600, 10**6
    return factor * unit_symbol(base) / unit_symbol(unit)


#: one hour as the seconds it holds, beside ``HOUR``: the price is per hour, the throughput per
#: second
SECONDS_PER_HOUR = _as("hour", "second") * HOUR
#: a million tokens as tokens, and a megawatt as watts: prices are quoted per million tokens,
#: yields per provisioned megawatt
PER_MILLION_TOKENS = _as("Mtoken", "token")
PER_MEGAWATT = _as("MW", "watt")

# ----------------------------------------------------------------------------- cost
@formula(
    unit="USD/Mtoken",
    latex=r"c_{r}",
    source="the price of a GPU-hour over the tokens one GPU processes in it",
)
def cost_per_million_at_rate(price_per_gpu_hour, gpu_token_rate):
    """What a million tokens cost at a GPU's token rate: a GPU-hour's price over the tokens it
    processes in an hour.

    Examples
    --------
    >>> q = cost_per_million_at_rate(price_per_gpu_hour=2, gpu_token_rate=3000)
    >>> print(f"{q:.4g~P}")
    0.1852 USD/Mtok
    """
    return PER_MILLION_TOKENS * price_per_gpu_hour * HOUR / (gpu_token_rate * SECONDS_PER_HOUR)


@formula(
    unit="USD/Mtoken",
    latex=r"c_{\mathrm{out}}",
    source="the price of a GPU-hour over the tokens one GPU decodes in it",
)
def cost_per_million_tokens(cost_per_million_at_rate, tokens_per_second_per_gpu):
    """What a million output tokens cost: a GPU-hour's price over the tokens one GPU decodes
    in an hour.

    Notes
    -----
    - Decode only, at the deployment's throughput per GPU (batch / step time / GPUs): a
      larger batch lowers the price per token and the tokens per second each user sees.
    - Idle time and a margin are not in it: a floor on a price.  Input tokens have their own
      price (``cost_per_million_input_tokens``).
    - $2 per GPU-hour at 3,000 tokens/s per GPU: $0.185 per million tokens.

    Examples
    --------
    >>> q = cost_per_million_tokens(price_per_gpu_hour=2, tokens_per_second_per_gpu=3000)
    >>> print(f"{q:.4g~P}")
    0.1852 USD/Mtok
    """
    return cost_per_million_at_rate.at(gpu_token_rate=tokens_per_second_per_gpu)


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{prefill}}",
    source="roofline prefill step: the batch's prompts over its time",
)
def prefill_tokens_per_second_per_gpu(prompt_len, batch, prefill_step_time):
    """Prompt tokens one GPU prefills per second: the batch's prompts over the prefill step.

    Examples
    --------
    >>> q = prefill_tokens_per_second_per_gpu(prompt_len=4096, batch=8, prefill_step_time=2.5)
    >>> print(f"{q:,.0f~P}")
    13,107 tok/s
    """
    return prompt_len * batch / prefill_step_time


@formula(
    unit="token/second",
    latex=r"R_{\mathrm{prefill}}^{\mathrm{par}}",
    source="roofline prefill step of a layout, shared by its GPUs",
    replaces="prefill_tokens_per_second_per_gpu",
    feature="layout",
)
def prefill_tokens_per_second_per_gpu_parallel(prefill_tokens_per_second_per_gpu, gpu_count):
    """Prompt tokens each GPU of a layout prefills per second: the layout's rate over its GPUs.

    Examples
    --------
    >>> q = prefill_tokens_per_second_per_gpu_parallel(prompt_len=4096, batch=8,
    ...       prefill_step_time=0.8, tp=4, ep=1, pp=1)
    >>> print(f"{q:,.0f~P}")
    10,240 tok/s
    """
    return prefill_tokens_per_second_per_gpu / gpu_count


@formula(
    unit="USD/Mtoken",
    latex=r"c_{\mathrm{in}}",
    source="the price of a GPU-hour over the prompt tokens one GPU prefills in it",
)
def cost_per_million_input_tokens(cost_per_million_at_rate, prefill_tokens_per_second_per_gpu):
    """What a million input (prompt) tokens cost: a GPU-hour's price over the prompt tokens
    one GPU prefills in an hour.

    Notes
    -----
    - Prefill processes a whole prompt per step, so input tokens cost far less than output
      tokens: the reason providers price them apart.

    Examples
    --------
    >>> q = cost_per_million_input_tokens(price_per_gpu_hour=2,
    ...                                   prefill_tokens_per_second_per_gpu=40000)
    >>> print(f"{q:.4g~P}")
    0.01389 USD/Mtok
    """
    return cost_per_million_at_rate.at(gpu_token_rate=prefill_tokens_per_second_per_gpu)


# ----------------------------------------------------------------------------- energy
@formula(
    unit="watt",
    latex=r"P_{\mathrm{draw}}",
    source="CMOS power: a static and memory-streaming floor plus dynamic power growing with the "
    "compute units' activity (Chung et al., 'Where Do the Joules Go?', arXiv:2601.22076: "
    "power rises with GPU utilization); the decode step's roofline times",
)
def power_draw(board_power, power_floor, decode_compute_time, decode_memory_time):
    """Power a board draws while decoding: the floor of a memory-bound step, rising to the
    TDP with the share of the step the compute units are busy.

    Notes
    -----
    - The busy share is the decode step's compute time over its roofline time: small at
      batch 1 (the step streams weights), 1 once the batch makes the step compute-bound.
    - ``board_power`` is the TDP (the datasheet's, in a Scenario): with ``power_floor`` = 1,
      the default, the draw is the TDP at every load, an upper bound.  Give a measured floor
      and pass this as ``board_power`` of ``energy_per_token`` for a load-dependent energy.
    - Provisioning (``tokens_per_megawatt``) stays at the TDP: a facility provisions for the
      most its boards can draw.

    Examples
    --------
    >>> q = power_draw(board_power=700, power_floor=0.5, decode_compute_time=0.002,
    ...                decode_memory_time=0.02)
    >>> print(f"{q:.4g~P}")
    385 W
    """
    busy = decode_compute_time / sympy.Max(decode_compute_time, decode_memory_time, evaluate=False)
    return board_power * (power_floor + (1 - power_floor) * busy)


@formula(
    unit="joule/token",
    latex=r"E_{\mathrm{tok}}",
    source="energy = power x time: the board's draw over the tokens it decodes per second",
)
def energy_per_token(board_power, tokens_per_second_per_gpu):
    """Energy one GPU spends per decoded token: its power draw over its token rate.

    Notes
    -----
    - The board's own draw; the facility's cooling and power conversion come on top
      (``facility_energy_per_token``).
    - A Scenario's ``board_power`` is the datasheet TDP, the most a board draws: this is then
      an upper bound.  For a draw that follows the load, give it ``power_draw``.
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
