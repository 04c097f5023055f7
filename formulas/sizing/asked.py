"""What the layout questions (:mod:`llmphys.sizing.layouts`) share: the description of their
arguments, written into each docstring once, and the deployment each is asked of, a
:class:`~llmphys.Scenario` (the one place inputs are resolved)."""

from __future__ import annotations

from typing import Any

from llmphys.engine.docs import shared_sections

#: the arguments the questions share, described once (written into each docstring's
#: ``{params}`` at import)
_documented = shared_sections(
    {
        "model": """model : str or Model
            A model preset's name, or a :class:`~llmphys.presets.Model`.""",
        "gpu": """gpu : str or Accelerator
            An accelerator preset's name, or an :class:`~llmphys.presets.Accelerator`.""",
        "link": """link : str or Interconnect
            The link between the GPUs: an interconnect preset's name or an
            :class:`~llmphys.interconnect.Interconnect`.""",
        "tp": "tp\n    The tensor-parallel degree.",
        "pp": "pp\n    The pipeline-parallel degree.",
        "ep": "ep\n    The expert-parallel degree.",
        "max_tp": "max_tp\n    The largest tensor-parallel degree tried.",
        "precision": "precision\n    The compute precision (picks the accelerator's dense peak).",
        "need": """need
            The per-GPU formula that must fit in one GPU's capacity: ``"vram_per_gpu"``
            (weights, KV cache and workspace) or ``"weights_per_gpu"`` (the seed's
            weights-only framing).""",
        "values": """**values
            The setting, as :class:`~llmphys.Scenario` takes it (precisions, ``batch``,
            ``seq_len`` or ``prompt_len``, ``new_tokens``, ``assumptions``, any glossary
            input).""",
    }
)


def _scenario(model: Any, gpu: Any, link: Any = None, precision: str = "bf16", **values: Any):
    """The deployment these questions are asked of: a :class:`~llmphys.Scenario` of ``model``
    on ``gpu`` joined by ``link``, with ``values`` (glossary inputs: the layout degrees,
    precisions, batch, lengths, efficiencies) winning over its defaults."""
    from llmphys.scenario import Scenario

    return Scenario.from_values(model, gpu, compute=precision, interconnect=link, **values)
