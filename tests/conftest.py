"""Shared fixtures.  Tests never mutate the built-in registry: scratch definitions go into a
child registry that sees the built-in formulas and glossary but adds to its own."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import llmphys as F
from llmphys.engine import Glossary, Registry


@pytest.fixture
def scratch() -> Registry:
    """A throw-away registry (and glossary) layered over the built-in ones."""
    return Registry(Glossary(parent=F.glossary), parent=F.registry)


# Property tests draw the same examples on every run (derandomize): a CI run is reproducible,
# and a failure found by exploring (HYPOTHESIS_PROFILE=explore, random seeds) becomes a test
# of its own rather than a flaky run.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium under Playwright, headless, for one test module (the app's, the
    docs site's and JupyterLab's browser tests)."""
    from playwright.sync_api import sync_playwright

    from support import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
