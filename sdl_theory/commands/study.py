"""``sdl-theory study NAME --out DIR``: the issue-5 studies, each a figure + a JSON result.

- ``absorption``: closed-form absorption thresholds (λ for ReLU + L1, k for TopK) vs trained SAEs;
- ``shrinkage``: closed-form L1 shrinkage of magnitudes vs trained SAEs (with and without encoder bias);
- ``partial-minima``: gradient descent started at / near predicted spurious partial minima, and how often
  random initialisations end in one (C6, C8);
- ``resampling``: a spurious partial minimum with a dead neuron, trained with and without resampling (C9);
- ``identifiability``: zero-loss solutions that recover no feature, and recovery of trained SAEs over
  ``n/n_p`` and ``n_q/n`` (C4).

Each study is a :class:`studies.Study` (``studies.get(NAME)``): a config dataclass and
``run(config, out) -> result`` (written as ``NAME.json``, ``NAME.png`` and ``README.md``), so a
notebook can call it; this command only fills the config.
"""
from __future__ import annotations

import dataclasses
import sys

from studies import STUDIES, get


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "study", help="run one of the theory-vs-training studies (writes a PNG and a JSON into --out)",
        description="Studies of issue 5: absorption, shrinkage, partial-minima, resampling, identifiability.")
    p.add_argument("name", choices=sorted(STUDIES), help="which study")
    p.add_argument("--out", required=True,
                   help="output directory (NAME.json, NAME.png and README.md are written there)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the study's)")
    p.add_argument("--steps", type=int, default=None, help="training steps per run (default: the study's)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any config field, e.g. --set lams=0.2,1.0,2.0 (repeatable)")
    p.set_defaults(func=run)


def _parse_value(text: str, current):
    from theory.errors import SDLInputError

    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if isinstance(current, tuple):
            kind = type(current[0]) if current else float
            return tuple(kind(v) for v in text.split(",") if v != "")
        return type(current)(text)
    except ValueError:
        raise SDLInputError(f"cannot read {text!r} as {type(current).__name__}") from None


def make_config(name: str, seed: int = 0, seeds=None, steps=None, overrides=()):
    from theory.errors import SDLInputError

    study = get(name)
    cls = study.config
    cfg = cls()
    fields = {f.name for f in dataclasses.fields(cls)}
    changes = {"seed": seed}
    if seeds is not None:
        changes["seeds"] = seeds
    if steps is not None:
        if "steps" not in fields:
            raise SDLInputError(f"study {name} has no 'steps' setting")
        changes["steps"] = steps
    for item in overrides:
        if "=" not in item:
            raise SDLInputError(f"--set expects FIELD=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        if key not in fields:
            raise SDLInputError(f"study {name} has no setting {key!r}; settings: {', '.join(sorted(fields))}")
        changes[key] = _parse_value(value, getattr(cfg, key))
    cfg = dataclasses.replace(cfg, **changes)
    cfg.validate()
    return study, cfg


def run(args) -> int:
    from theory.errors import SDLInputError

    if args.seeds is not None and args.seeds < 1:
        raise SDLInputError(f"--seeds must be >= 1, got {args.seeds}")
    study, cfg = make_config(args.name, args.seed, args.seeds, args.steps, args.set)
    command = "sdl-theory " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("sdl-theory") else None
    command = command or f"sdl-theory study {args.name} --out {args.out} --seed {args.seed}" + (
        f" --seeds {args.seeds}" if args.seeds is not None else "")
    result = study.run(cfg, out=args.out, log=lambda s: print(s, flush=True), command=command)
    files = result["files"]
    print(result["note"])
    print(f"wrote {files['json']}, {files['png']}, {files['readme']}  ({result['wall_s']:.0f}s)")
    return 0
