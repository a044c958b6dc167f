"""Hypothesis profiles: CI runs derandomised (same examples every run, no example database), so a CI
verdict is reproducible; local runs keep hypothesis' random exploration to find new failures.
Each test still sets its own ``max_examples`` and ``deadline``."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
