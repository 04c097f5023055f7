"""The glossary of inputs: every symbol once, grouped by topic.

Each topic's symbols are a table, ``<topic>.toml`` beside its module (the format:
:mod:`llmphys.symbols.table`); importing the module adds them to :data:`llmphys.engine.glossary`,
checked (a unit the registry does not know, a name defined twice are refused).  ``seed`` holds
the symbols of the seed spec (and sets the reading order of factors); later topics add theirs in
their own module.
"""

from llmphys.symbols import (  # noqa: F401  (importing a module registers its symbols)
    architecture,  # GQA, MLA, MoE and sliding-window symbols (imports seed first)
    efficiency,  # the efficiency model: cost per pass and per layer, saturating MFU
    parallel,  # tensor, pipeline and expert parallelism, the interconnect
    precision,  # weights at several precisions, block-scaled formats
    seed,  # the seed's symbols
    serving,  # price, power and facility overhead; speculative decoding
)
