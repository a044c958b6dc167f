"""``sdl-theory inspect CHECKPOINT``: a trained model against the theory's predictions (issue 5).

Loads the model through :func:`numerics.foreign.load_any` (ours, SAELens, sparsify or
dictionary_learning, detected; nothing is unpickled) and its instance — ``instance.json`` beside the model, ``--instance FILE``, or, for a
model saved by ``sdl-theory bench``, the bench config in ``OUT/results.json`` — then prints
:func:`proofs_check.bridge.inspect_model`: activation pattern on single-feature inputs, dead and
polysemantic neurons, stationarity residuals of L̃, least-squares decoder vs learned, the partial
optimum of the pattern (ACS) vs the achieved L̃, and global vs spurious.
"""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect", help="compare a trained model with the theory's predictions for its activation pattern",
        description="Activation pattern, stationarity residuals, least-squares decoder, partial optimum (ACS), "
                    "global vs spurious, dead neurons of a saved model (cfg.json + model.safetensors).")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="checkpoint directory: ours (cfg.json + model.safetensors), SAELens (sae_weights.safetensors), "
                        "sparsify (sae.safetensors) or dictionary_learning (ae.pt); the format is detected")
    p.add_argument("--features", choices=("instance", "decoder"), default="instance",
                   help="instance: the ground-truth features (instance.json, --instance or the bench config; default); "
                        "decoder: the model's own unit decoder atoms, for checkpoints without ground truth")
    p.add_argument("--instance", default=None,
                   help="instance JSON (W_p, optional W_r and weights); default: CHECKPOINT/instance.json or the bench config")
    p.add_argument("--json", action="store_true", help="print the full result as JSON instead of text")
    p.add_argument("--out", default=None, help="also write the JSON result to this file (atomically)")
    p.add_argument("--pattern-out", default=None, metavar="FILE.safetensors",
                   help="also write the activation pattern on single-feature inputs as a features × neurons uint8 "
                        "tensor 'mask' (safetensors, atomically); the JSON lists the sets F_i only up to 100,000 "
                        "firing pairs")
    p.add_argument("--acs-max-vars", type=int, default=400,
                   help="run ACS (and restarts) only when n_q·n_p (+n_q) is at most this (default 400)")
    p.add_argument("--restarts", type=int, default=4, help="ACS restarts for the global reference (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the ACS restarts (default 0)")
    p.add_argument("--tol", type=float, default=1e-3,
                   help="tolerance relative to Σ_d M_d||w_r^d||² for global/spurious decisions (default 1e-3)")
    p.set_defaults(func=run)


def run(args) -> int:
    from theory.errors import SDLInputError

    from theory import validation as V

    V.nonneg_int("--acs-max-vars", args.acs_max_vars)
    V.nonneg_int("--restarts", args.restarts, 1000)
    V.seed("--seed", args.seed)
    V.finite_float("--tol", args.tol, lo=0, lo_open=True)
    for flag, path in (("--out", args.out), ("--pattern-out", args.pattern_out)):
        if path:
            _check_out_file(path, flag)  # before the work: an unwritable file must not lose a computed result
    from proofs_check.bridge import inspect_model, load_checkpoint_instance

    model, W_p, W_r, weights, how = load_checkpoint_instance(args.checkpoint, args.instance, features=args.features)
    res = inspect_model(model, W_p, W_r, weights, acs_max_vars=args.acs_max_vars, restarts=args.restarts,
                        seed=args.seed, tol=args.tol)
    out = res.to_json()
    out["checkpoint"] = str(args.checkpoint)
    from numerics.foreign import detect_format

    out["checkpoint_format"] = detect_format(args.checkpoint)
    out["instance_source"] = how
    out["seed"] = args.seed
    from numerics.io import dumps, write_json_atomic

    if args.json:
        sys.stdout.write(dumps(out))
    else:
        print(f"checkpoint: {args.checkpoint} ({out['checkpoint_format']} format)  (instance: {how})")
        print(res.to_text())
    if args.out:  # printed first, so a write that still fails (disk full) loses nothing
        try:
            write_json_atomic(args.out, out)
        except OSError as exc:
            raise SDLInputError(f"could not write --out {args.out} ({exc.strerror or exc}); the result is printed above") from None
    if args.pattern_out:
        import torch

        from numerics.io import save_tensors_atomic

        try:
            save_tensors_atomic(args.pattern_out, {"mask": torch.from_numpy(res.pattern_mask.astype("uint8"))},
                                metadata={"rows": "features", "cols": "neurons", "checkpoint": str(args.checkpoint)})
        except OSError as exc:
            raise SDLInputError(f"could not write --pattern-out {args.pattern_out} ({exc.strerror or exc}); "
                                "the result is printed above") from None
    return 0


def _check_out_file(path: str, flag: str = "--out") -> None:
    import os
    import tempfile
    from pathlib import Path

    from theory.errors import SDLInputError

    p = Path(path)
    if p.is_dir():
        raise SDLInputError(f"{flag} {path} is a directory; give a file name such as {p / ('inspect.json' if flag == '--out' else 'pattern.safetensors')}")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".sdl-write-test-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise SDLInputError(f"cannot write {flag} {path} ({exc.strerror or exc}); choose a writable path") from None
