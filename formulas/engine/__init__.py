"""The machinery: glossary, formulas and their registry, printing, numbers.

Physics modules import from here; nothing here imports physics.
"""

from llmphys.engine.formula import Formula, Part, Registry, formula, registry
from llmphys.engine.glossary import Entry, Glossary, glossary

__all__ = ["Entry", "Formula", "Glossary", "Part", "Registry", "formula", "glossary", "registry"]
