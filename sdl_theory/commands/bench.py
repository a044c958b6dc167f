"""``sdl-theory bench``: train SDL models on the Linear Representation Bench and compare with the paper.

Every field of :class:`numerics.config.BenchConfig`, :class:`numerics.config.DataConfig` and
:class:`numerics.config.TrainConfig` is a flag (:mod:`sdl_theory.flags`), and so is every field of the
registered families' hyperparameter dataclasses (``--k``, ``--l1-coeff``, …: each applies to the
families that have it; ``--hyper NAME=VALUE`` reaches those of your own family). ``--preset``
supplies the values of flags not given. Only torch-free modules are imported to build the parser.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# set per run by the bench itself (kind and family from the method, anchors from anchor_frac)
_SKIP = {"data", "train", "preset", "kind", "arch", "anchor_k", "checkpoint_dir", "resume", "out"}


def _hyper_dest(name: str) -> str:
    return f"hyper.{name}"


def register(subparsers) -> None:
    from numerics.bench import PRESETS
    from numerics.config import BenchConfig, DataConfig, TrainConfig, hyperparameter_fields
    from sdl_theory.flags import add_field, add_fields
    from theory.options import default_of

    p = subparsers.add_parser(
        "bench", help="train SAEs/transcoders/crosscoders on the Linear Representation Bench",
        description="Train each method (with and without feature anchoring) on one bench instance, "
                    "evaluate GT recovery etc., write results.json + table.md (paper's Table 1 beside ours).",
        argument_default=argparse.SUPPRESS)
    p.add_argument("--preset", default="small", choices=sorted(PRESETS),
                   help="base values for every flag not given (default: small, CI size)")
    p.add_argument("--out", help="output directory (default: out/bench-<preset>)")
    p.add_argument("--save-models", action=argparse.BooleanOptionalAction, default=True,
                   help="write each trained model as cfg.json + model.safetensors under OUT/models")
    p.add_argument("--overwrite", action="store_true", default=False,
                   help="OUT holds a run with another configuration: delete its results, models and checkpoints "
                        "first (without it such a run is refused; the same configuration continues its checkpoints)")
    p.add_argument("--dry-run", action="store_true", default=False,
                   help="print the resolved config and exit without training")
    seen: set = set()
    for group, cls in (("bench", BenchConfig), ("data", DataConfig), ("train", TrainConfig)):
        add_fields(p.add_argument_group(f"{group} options"), cls, skip=_SKIP, seen=seen)
    g = p.add_argument_group("family hyperparameters (each applies to the families that have it)")
    for name, (f, fams, hint) in hyperparameter_fields().items():  # a name two families share is one flag
        add_field(g, f, hint, default_of(f), _hyper_dest(name), f" ({', '.join(fams)})")
    g.add_argument("--hyper", dest="hyper_items", action="append", metavar="NAME=VALUE",
                   help="a hyperparameter of any method's family (e.g. of your own family); repeatable")
    p.set_defaults(func=run)


def resolve_config(args):
    """Preset values overridden by the flags given on the command line."""
    import dataclasses

    from numerics.bench import preset_config
    from numerics.config import BenchConfig, DataConfig, TrainConfig, hyperparameter_fields, parse_method
    from sdl_theory.flags import given, parse_assignments
    from theory import registry

    data, train, bench = given(args, DataConfig), given(args, TrainConfig), given(args, BenchConfig)
    ns = vars(args)
    hyper = {name: ns[_hyper_dest(name)] for name in hyperparameter_fields() if _hyper_dest(name) in ns}
    hyper = {k: tuple(v) if isinstance(v, list) else v for k, v in hyper.items()}
    bench = {k: v for k, v in bench.items() if k not in _SKIP}
    bench.setdefault("out", getattr(args, "out", None) or f"out/bench-{args.preset}")
    if getattr(args, "hyper_items", None):
        methods = bench.get("methods") or preset_config(args.preset).methods
        fields = {}
        for m in methods:
            fam = registry.get(parse_method(m)[1])
            if fam.hyperparameters is not None:
                for f in dataclasses.fields(fam.hyperparameters):
                    fields.setdefault(f.name, f.default)
        hyper.update(parse_assignments(args.hyper_items, fields, flag="--hyper"))
    if hyper:
        train["hyper"] = hyper
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
    results = run_bench(cfg, cfg.out, log=lambda s: print(s, flush=True), save_models=args.save_models,
                        overwrite=args.overwrite)
    print()
    print((Path(cfg.out) / "table.md").read_text())
    print(f"wrote {cfg.out}/results.json, {cfg.out}/table.md")
    if results["errors"]:
        print(f"{len(results['errors'])} run(s) failed: {', '.join(results['errors'])}", file=sys.stderr)
        return 1
    return 0
