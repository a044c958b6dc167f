"""Uniform samples of single modules' mutants for the targeted runs (seed 41 in the fourth session, 53 in the fifth;
neither used before them)::

    .venv-mutation/bin/python results/mutation/m4/pick.py proofs_check.bridge 100 > results/mutation/m4/names_bridge.txt
    .venv-mutation/bin/python results/mutation/m4/pick.py proofs_check.c7_absorption 60 53 > results/mutation/m5/names_c7_absorption.txt
"""
import random
import sys

sys.path.insert(0, "scripts")
from mutation_select import all_mutants  # noqa: E402

mod, k = sys.argv[1], int(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 41
names = sorted(n for n in all_mutants() if n.partition(".x")[0] == mod)
random.Random(seed).shuffle(names)
print("\n".join(names[:k]))
print(f"{len(names)} mutants of {mod}, {min(k, len(names))} picked (seed {seed})", file=sys.stderr)
