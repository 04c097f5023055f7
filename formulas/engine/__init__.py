"""The machinery: glossary, formulas and their registry, printing, numbers.

Physics modules import from here; nothing here imports physics.  One module per job:

* ``glossary`` (every symbol once), ``formula`` (the Formula), ``parts``, ``registry``,
  ``definition`` (the ``@formula`` decorator and the unit check of a definition),
  ``variants`` (which formula stands in for which, under which feature);
* ``coercion`` (what a user gives for a symbol, as float64 in its unit), ``binding`` (values
  bound to a formula's inputs: the one path), ``compiled`` (lambdify, sweeps);
* ``derive`` (worked derivations), ``solve``, ``roots``, ``feasibility``, ``solution``,
  ``elasticities`` (inverse questions), ``render``, ``printing`` and ``formatting``
  (text and LaTeX of expressions and numbers), ``parse`` (formula and value text from an AST
  whitelist), ``docs`` (a formula's generated documentation).
"""

from llmphys.engine.formula import Formula, Part, Registry, formula, registry
from llmphys.engine.glossary import Entry, Glossary, glossary

__all__ = ["Entry", "Formula", "Glossary", "Part", "Registry", "formula", "glossary", "registry"]
