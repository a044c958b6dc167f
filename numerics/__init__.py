"""Torch layer of sdl-theory: bench data, SDL models, training, metrics (THEORY.md sections 2, 5, 6, 8).

Kept import-light: import the sub-module you need (``numerics.data``, ``numerics.models``,
``numerics.train``, ``numerics.metrics``, ``numerics.bench``, ``numerics.io``).
"""
