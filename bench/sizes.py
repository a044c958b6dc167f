"""The problem-size flags the bench scripts share (``train_throughput.py``, ``step_compare.py``): batch
``B``, ``n_p``, ``n_q``, ``k``, repeats, ``--small`` for a quick look, ``--json`` for the numbers.

The scripts are run as files (``python bench/<script>.py``), so this module is imported by its own name."""
from __future__ import annotations

import argparse


def size_parser(doc: str, *, k: int, repeats: int, small: tuple[int, int, int, int]) -> argparse.ArgumentParser:
    """A parser with the shared flags; ``small``: ``(B, n_p, n_q, k)`` of ``--small``. Add the script's own
    flags, then :func:`parse_sizes`."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--d-in", type=int, default=768)
    ap.add_argument("--n-latents", type=int, default=16000)
    ap.add_argument("--k", type=int, default=k)
    ap.add_argument("--repeats", type=int, default=repeats)
    ap.add_argument("--small", action="store_true", help="B={}, n_p={}, n_q={}, k={}".format(*small))
    ap.add_argument("--json", help="also write the numbers to this file")
    ap.set_defaults(_small=tuple(small))
    return ap


def parse_sizes(ap: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse ``argv``; ``--small`` replaces the four sizes."""
    a = ap.parse_args(argv)
    if a.small:
        a.batch, a.d_in, a.n_latents, a.k = a._small
    return a
