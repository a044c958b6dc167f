"""``sdl-theory bench``: train SDL models on the Linear Representation Bench and compare with the paper.

Every field of :class:`numerics.config.DataConfig`, :class:`numerics.config.TrainConfig` and
:class:`numerics.config.BenchConfig` is a flag; ``--preset`` supplies the values of flags not given.
Only the torch-free ``numerics.config`` is imported to build the parser; torch loads inside ``run``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

_SKIP = {"data", "train", "preset", "kind", "arch", "anchor_k", "checkpoint_dir", "resume"}
_ELEMENT_TYPES = {"methods": str, "taus": float, "prefixes": int}


def _field_comments() -> dict[str, str]:
    """The ``# comment`` after each config field: the help text of its flag."""
    import numerics.config as cfgmod

    text = Path(cfgmod.__file__).read_text()
    out = {}
    for m in re.finditer(r"^\s{4}(\w+): [^=\n]+=[^#\n]*#\s*(.+)$", text, re.M):
        out.setdefault(m.group(1), m.group(2).strip())
    return out


def register(subparsers) -> None:
    from numerics.config import BenchConfig, DataConfig, TrainConfig

    p = subparsers.add_parser(
        "bench", help="train SAEs/transcoders/crosscoders on the Linear Representation Bench",
        description="Train each method (with and without feature anchoring) on one bench instance, "
                    "evaluate GT recovery etc., write results.json + table.md (paper's Table 1 beside ours).",
        argument_default=argparse.SUPPRESS)
    p.add_argument("--preset", default="small", choices=["small", "table1-scaled", "paper-table1"],
                   help="base values for every flag not given (default: small, CI size)")
    p.add_argument("--out", help="output directory (default: out/bench-<preset>)")
    p.add_argument("--save-models", action=argparse.BooleanOptionalAction, default=True,
                   help="write each trained model as cfg.json + model.safetensors under OUT/models")
    p.add_argument("--dry-run", action="store_true", default=False,
                   help="print the resolved config and exit without training")
    comments = _field_comments()
    seen = set()
    for group, cls in (("bench", BenchConfig), ("data", DataConfig), ("train", TrainConfig)):
        g = p.add_argument_group(f"{group} options")
        for f in dataclasses.fields(cls):
            if f.name in _SKIP or f.name in seen or f.name == "out":
                continue
            seen.add(f.name)
            flag = "--" + f.name.replace("_", "-")
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            help_ = f"{comments.get(f.name, f.name)} [base default: {default}]"
            if isinstance(default, bool):
                g.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, help=help_)
            elif isinstance(default, tuple):
                g.add_argument(flag, dest=f.name, nargs="*", type=_ELEMENT_TYPES.get(f.name, str), help=help_)
            else:
                g.add_argument(flag, dest=f.name, type=type(default), help=help_)
    p.set_defaults(func=run)


def resolve_config(args):
    """Preset values overridden by the flags given on the command line."""
    from numerics.bench import preset_config
    from numerics.config import BenchConfig, DataConfig, TrainConfig

    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "preset", "save_models", "dry_run")}
    names = {cls: {f.name for f in dataclasses.fields(cls)} for cls in (DataConfig, TrainConfig, BenchConfig)}
    data = {k: v for k, v in given.items() if k in names[DataConfig]}
    train = {k: v for k, v in given.items() if k in names[TrainConfig]}
    bench = {k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items()
             if k in names[BenchConfig] and k not in ("data", "train")}
    if "prefixes" in train:
        train["prefixes"] = tuple(train["prefixes"])
    bench.setdefault("out", f"out/bench-{args.preset}")
    cfg = preset_config(args.preset, data=data, train=train, **bench)
    cfg.validate()
    return cfg


def run(args) -> int:
    from numerics.bench import run_bench
    from numerics.io import to_jsonable

    cfg = resolve_config(args)
    print("config:", json.dumps(to_jsonable(cfg), separators=(",", ":")))
    if args.dry_run:
        return 0
    results = run_bench(cfg, cfg.out, log=lambda s: print(s, flush=True), save_models=args.save_models)
    print()
    print((Path(cfg.out) / "table.md").read_text())
    print(f"wrote {cfg.out}/results.json, {cfg.out}/table.md")
    if results["errors"]:
        print(f"{len(results['errors'])} run(s) failed: {', '.join(results['errors'])}", file=sys.stderr)
        return 1
    return 0
