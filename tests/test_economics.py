"""Serving economics (issue 19, first step): the price and the energy of a token, what a
megawatt yields, and what speculative decoding buys; each checked by hand, solvable, and
refusing the unit slips of the field ($ vs $/hour, W vs J)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmphys as F
from llmphys.units import Q_


def test_cost_per_million_tokens_by_hand():
    # $2 per GPU-hour at 3,000 tok/s per GPU: 2 / (3,000 x 3,600) x 1e6 = $0.185 per million
    q = F.cost_per_million_tokens(price_per_gpu_hour=2, tokens_per_second_per_gpu=3000)
    assert q.units == Q_(1, "USD/Mtoken").units
    assert q.magnitude == pytest.approx(2 / (3000 * 3600) * 1e6, rel=1e-15)
    assert round(q.magnitude, 3) == 0.185


def test_energy_per_token_and_facility_overhead_by_hand():
    # 700 W at 3,000 tok/s: 0.233 J per token; a PUE of 1.2 on top
    q = F.energy_per_token(board_power=700, tokens_per_second_per_gpu=3000)
    assert q.to("J/token").magnitude == pytest.approx(700 / 3000) and round(q.magnitude, 3) == 0.233
    fac = F.facility_energy_per_token(board_power=700, tokens_per_second_per_gpu=3000, pue=1.2)
    assert fac.magnitude == pytest.approx(1.2 * 700 / 3000)
    mw = F.tokens_per_megawatt(board_power=700, tokens_per_second_per_gpu=3000, pue=1.2)
    assert mw.to("token/s/MW").magnitude == pytest.approx(1e6 / (700 * 1.2) * 3000)


def test_speculative_decoding_by_hand():
    # Leviathan et al. (2023), Eq. 1: alpha = 0.8, gamma = 4 -> (1 - 0.8^5) / 0.2 = 3.3616
    q = F.spec_tokens_per_step(acceptance_rate=0.8, draft_tokens=4)
    assert q.magnitude == pytest.approx(3.3616, rel=1e-12)
    assert F.spec_tokens_per_step(acceptance_rate=0, draft_tokens=4).magnitude == 1
    s = F.spec_speedup(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    assert s.magnitude == pytest.approx(3.3616 / 1.2)


@given(st.floats(0, 0.99), st.integers(1, 16))
def test_tokens_per_step_is_the_geometric_sum(alpha, gamma):
    q = F.spec_tokens_per_step(acceptance_rate=alpha, draft_tokens=gamma).magnitude
    assert q == pytest.approx(sum(alpha**i for i in range(gamma + 1)), rel=1e-9)
    assert 1 <= q <= gamma + 1


def test_the_price_at_which_a_target_cost_is_met():
    # solvable like every formula: the $/GPU-hour at which 3,000 tok/s costs $0.10 per million
    answer = F.solve(
        "cost_per_million_tokens",
        "price_per_gpu_hour",
        target=Q_(0.10, "USD/Mtoken"),
        tokens_per_second_per_gpu=3000,
    )
    assert answer.value.to("USD/hour").magnitude == pytest.approx(0.10 * 3000 * 3600 / 1e6)


def test_a_scenario_prices_its_decode_throughput():
    s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4, batch=32)
    s = s.replace(price_per_gpu_hour=Q_(3, "USD/hour"))
    per_gpu = s.evaluate("tokens_per_second_per_gpu").to("token/s").magnitude
    cost = s.evaluate("cost_per_million_tokens").to("USD/Mtoken").magnitude
    assert cost == pytest.approx(3 / (per_gpu * 3600) * 1e6, rel=1e-12)
    # a larger batch: more tokens per GPU, so a lower price per token
    assert s.replace(batch=64).evaluate("cost_per_million_tokens").magnitude < cost


@pytest.mark.parametrize(
    ("name", "values", "says"),
    [
        (
            "cost_per_million_tokens",
            {"price_per_gpu_hour": Q_(2, "USD"), "tokens_per_second_per_gpu": 3000},
            "USD/hour",  # a price, not a price per hour
        ),
        (
            "energy_per_token",
            {"board_power": Q_(700, "J"), "tokens_per_second_per_gpu": 3000},
            "watt",  # an energy, not a power
        ),
        (
            "energy_per_token",
            {"board_power": -700, "tokens_per_second_per_gpu": 3000},
            "board_power",
        ),
        ("spec_tokens_per_step", {"acceptance_rate": 1.5, "draft_tokens": 4}, "acceptance_rate"),
    ],
)
def test_unit_slips_are_refused(name, values, says):
    with pytest.raises(F.LlmphysError) as info:
        F.registry[name](**values)
    assert says in str(info.value)


def test_no_price_is_shipped_as_a_fact():
    entry = F.glossary["price_per_gpu_hour"]
    assert "an example, not a price" in entry.meaning


@pytest.mark.parametrize(
    ("name", "watts"),
    [("a100-40gb", 400), ("a100-80gb", 400), ("h100-sxm", 700), ("h100-pcie", 350),
     ("h200", 700), ("b200", 1000), ("mi300x", 750), ("l40s", 350), ("rtx-4090", 450)],
)  # fmt: skip
def test_board_power_is_the_datasheet_tdp(name, watts):
    # each from the vendor's datasheet or product brief, quoted in tdp_source
    gpu = F.hardware[name]
    assert gpu.tdp == Q_(watts, "W") and gpu.tdp_source
    assert gpu.values()["board_power"] == Q_(watts, "W")


def test_a_scenario_spends_its_boards_tdp_per_token():
    s = F.Scenario(model="llama-3.1-8b", hardware="h200", batch=64)
    per_gpu = s.evaluate("tokens_per_second_per_gpu").magnitude
    assert s.evaluate("energy_per_token").to("J/token").magnitude == pytest.approx(700 / per_gpu)
    assert "TDP, the most it draws" in s.source("board_power")


def test_input_tokens_priced_at_the_prefill_rate():
    # $2 per GPU-hour at 40,000 prompt tokens/s per GPU: 2 / (40,000 x 3,600) x 1e6
    q = F.cost_per_million_input_tokens(
        price_per_gpu_hour=2, prefill_tokens_per_second_per_gpu=40000
    )
    assert q.to("USD/Mtoken").magnitude == pytest.approx(2 / (40000 * 3600) * 1e6)
    s = F.Scenario(model="llama-3.1-70b", hardware="h100-sxm", weights="fp8", tp=4, batch=32)
    rate = s.evaluate("prefill_tokens_per_second_per_gpu").magnitude
    # the layout's prompts over its prefill step, shared by its 4 GPUs
    step = s.evaluate("prefill_step_time").to("s").magnitude
    assert rate == pytest.approx(32 * 4096 / step / 4, rel=1e-12)
    assert s.evaluate("cost_per_million_input_tokens") < s.evaluate("cost_per_million_tokens")


def test_power_draw_follows_the_load_up_to_the_tdp():
    # 700 W board, half of it on a memory-bound step, compute busy 10 % of the step: 385 W
    q = F.power_draw(board_power=700, power_floor=0.5, decode_compute_time=0.002,
                     decode_memory_time=0.02)  # fmt: skip
    assert q.magnitude == pytest.approx(700 * (0.5 + 0.5 * 0.1))
    draws = []
    for batch in (1, 16, 256, 1024):
        s = F.Scenario(batch=batch, prompt_len=512, output_len=128, weights="fp8",
                       power_floor=0.45)  # fmt: skip
        draws.append(s.power_draw.magnitude)
        # the default floor (1) is the TDP at every load: the upper bound
        assert s.replace(power_floor=1).power_draw.magnitude == s.value("board_power")
        assert s.replace(board_power=s.power_draw).energy_per_token <= s.energy_per_token
    assert draws == sorted(draws) and draws[0] < 0.5 * 700 and draws[-1] == pytest.approx(700)
