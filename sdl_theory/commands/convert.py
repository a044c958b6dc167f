"""``sdl-theory convert SRC DST --to saelens|sparsify|sdl``: checkpoints between libraries (issue 9).

Reads ours, SAELens, sparsify or dictionary_learning (detected, see :mod:`numerics.foreign` for the
name table) and writes SAELens (``cfg.json`` + ``sae_weights.safetensors``, loadable with
``sae_lens.SAE.load_from_disk``), sparsify (TopK only) or ours. After writing, the written checkpoint
is read back and must reconstruct random inputs like the source (relative error ≤ ``--rtol``);
otherwise the command fails.
"""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "convert", help="convert a checkpoint between sdl-theory, SAELens, sparsify and dictionary_learning",
        description="Convert a checkpoint (format detected: ours, SAELens, sparsify, dictionary_learning ae.pt) to "
                    "SAELens, sparsify or our format; the result is read back and checked against the source.")
    p.add_argument("src", metavar="SRC", help="checkpoint directory (or a dictionary_learning ae.pt)")
    p.add_argument("dst", metavar="DST", help="new output directory")
    p.add_argument("--to", choices=("saelens", "sparsify", "sdl"), default="saelens", help="output format (default saelens)")
    p.add_argument("--rtol", type=float, default=1e-5,
                   help="largest relative reconstruction difference accepted on the read-back check (default 1e-5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random check inputs (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    from theory.errors import SDLInputError

    if not args.rtol > 0:
        raise SDLInputError(f"--rtol must be > 0, got {args.rtol}")
    from numerics.foreign import convert, load_any, reconstruction_gap

    src = convert(args.src, args.dst, to=args.to)
    back = load_any(args.dst)
    gap = reconstruction_gap(src.model, back.model, seed=args.seed)
    print(f"read {args.src} ({src.format}): {src.model.spec()['name']}, d_in={src.model.d_in}, "
          f"n_latents={src.model.n_latents}, d_out={src.model.d_out}")
    for note in src.notes:
        print(f"  note: {note}")
    print(f"wrote {args.dst} ({args.to}); read back as {back.format}: relative reconstruction difference {gap:.3g} "
          f"on 256 seeded random inputs (seed {args.seed})")
    if not gap <= args.rtol:
        print(f"sdl-theory convert: error: the written checkpoint reconstructs differently ({gap:.3g} > --rtol {args.rtol})")
        return 1
    return 0
