"""Shared fixtures.  Tests never mutate the built-in registry: scratch definitions go into a
child registry that sees the built-in formulas and glossary but adds to its own."""

from __future__ import annotations

import pytest

import llmphys as F
from llmphys.engine import Glossary, Registry


@pytest.fixture
def scratch() -> Registry:
    """A throw-away registry (and glossary) layered over the built-in ones."""
    return Registry(Glossary(parent=F.glossary), parent=F.registry)
