"""``sdl-theory study NAME --out DIR``: the issue-5 studies, each a figure + a JSON result.

- ``absorption``: closed-form absorption thresholds (λ for ReLU + L1, k for TopK) vs trained SAEs;
- ``shrinkage``: closed-form L1 shrinkage of magnitudes vs trained SAEs (with and without encoder bias);
- ``partial-minima``: gradient descent started at / near predicted spurious partial minima, and how often
  random initialisations end in one (C6, C8);
- ``resampling``: a spurious partial minimum with a dead neuron, trained with and without resampling (C9);
- ``identifiability``: zero-loss solutions that recover no feature, and recovery of trained SAEs over
  ``n/n_p`` and ``n_q/n`` (C4);
- ``real-model``: an SAE, a transcoder and a crosscoder trained on all-MiniLM-L6-v2's activations (the optional
  ``minilm`` extra) against stationarity, dead latents, absorption and anchoring (issue 9).

Each study is a :class:`studies.Study` (``studies.get(NAME)``): a config dataclass and
``run(config, out) -> result`` (written as ``NAME.json``, ``NAME.png`` and ``README.md``), so a
notebook can call it; this command only fills the config.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from studies import STUDIES, get


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "study", help="run one of the theory-vs-training studies (writes a PNG and a JSON into --out)",
        description="Studies of issues 5 and 9: absorption, shrinkage, partial-minima, resampling, identifiability, "
                    "real-model (needs the minilm extra, or --source synthetic). "
                    "Every field of the study's config is a flag: sdl-theory study NAME --help lists them.",
        add_help=False)
    p.add_argument("name", choices=sorted(STUDIES), help="which study")
    p.add_argument("settings", nargs=argparse.REMAINDER, help="--out DIR and the study's own flags (NAME --help)")
    p.set_defaults(func=run)


def study_parser(name: str) -> argparse.ArgumentParser:
    """``sdl-theory study NAME``'s flags: --out, the common ones, and one per field of the study's config
    (the same generator as ``bench``: :mod:`sdl_theory.flags`)."""
    from sdl_theory.flags import add_fields

    study = get(name)
    from sdl_theory.cli import OneLineParser

    p = OneLineParser(prog=f"sdl-theory study {name}", description=study.summary)
    p.add_argument("--out", required=True,
                   help="output directory (NAME.json, NAME.png and README.md are written there)")
    p.add_argument("--overwrite", action="store_true",
                   help="OUT holds this study's result with another configuration: replace it (without it, refused)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field as text, e.g. --set lams=0.2,1.0,2.0 (repeatable)")
    add_fields(p.add_argument_group(f"{name} settings (the fields of {study.config.__name__})"), study.config)
    return p


def make_config(name: str, seed: int = 0, seeds=None, steps=None, overrides=(), given=None):
    """The study's default config with ``given`` field values (typed) and ``--set`` overrides applied."""
    from sdl_theory.flags import parse_assignments
    from theory.errors import SDLInputError

    study = get(name)
    cls = study.config
    cfg = cls()
    names = {f.name for f in dataclasses.fields(cls)}
    changes = dict(given or {})
    changes.setdefault("seed", seed)
    if seeds is not None:
        changes["seeds"] = seeds
    if steps is not None:
        if "steps" not in names:
            raise SDLInputError(f"study {name} has no 'steps' setting")
        changes["steps"] = steps
    changes.update(parse_assignments(overrides, {k: getattr(cfg, k) for k in names}, flag="--set"))
    if "seeds" in changes and changes["seeds"] < 1:
        raise SDLInputError(f"--seeds must be >= 1, got {changes['seeds']}")
    cfg = dataclasses.replace(cfg, **changes)
    cfg.validate()
    return study, cfg


def run(args) -> int:
    from sdl_theory.flags import given

    study = get(args.name)
    ns = study_parser(args.name).parse_args(args.settings)
    values = given(ns, study.config)
    study, cfg = make_config(args.name, overrides=ns.set, given=values)
    from numerics.io import to_jsonable
    from numerics.outdir import claim_out_dir

    # one configuration per --out: a rerun with other settings must not overwrite results silently
    claim_out_dir(ns.out, to_jsonable(dataclasses.asdict(cfg)), f"{study.name}.json",
                  (f"{study.name}.json", f"{study.name}.png"), overwrite=ns.overwrite, what=f"{study.name} study")
    command = "sdl-theory " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("sdl-theory") else None
    command = command or f"sdl-theory study {args.name} --out {ns.out} --seed {cfg.seed}" + (
        f" --seeds {values['seeds']}" if "seeds" in values else "")
    result = study.run(cfg, out=ns.out, log=lambda s: print(s, flush=True), command=command)
    files = result["files"]
    print(result["note"])
    print(f"wrote {files['json']}, {files['png']}, {files['readme']}  ({result['wall_s']:.0f}s)")
    return 0
