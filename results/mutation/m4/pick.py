"""Uniform samples of single modules' mutants for the targeted runs (seed 41, never used before)::

    .venv-mutation/bin/python results/mutation/m4/pick.py proofs_check.bridge 100 > results/mutation/m4/names_bridge.txt
"""
import random
import sys

sys.path.insert(0, "scripts")
from mutation_select import all_mutants  # noqa: E402

mod, k = sys.argv[1], int(sys.argv[2])
names = sorted(n for n in all_mutants() if n.partition(".x")[0] == mod)
random.Random(41).shuffle(names)
print("\n".join(names[:k]))
print(f"{len(names)} mutants of {mod}, {min(k, len(names))} picked (seed 41)", file=sys.stderr)
