"""mutmut 3.8.1's mutants of a few files only (the fifth session's targeted runs; never CI)::

    .venv-mutation/bin/python results/mutation/m5/generate_some.py proofs_check/c7_absorption.py proofs_check/c4_zero_loss.py

As ``scripts/mutation_run.py generate``, but only the files named are mutated (every other file is copied
unmutated). A module's mutant names depend only on its own source, so a module's sample (``m5/pick.py``) is the
same as after a full generation of the same commit.
"""
import sys

sys.path.insert(0, "scripts")


def main(files: list[str]) -> None:
    from pathlib import Path

    from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
    from mutmut.configuration import config
    from mutmut.mutation.trampoline import set_mutant_under_test

    config().only_mutate = list(files)
    set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    stats = create_mutants(1)
    print(f"{stats.mutated} files mutated, {stats.ignored} copied unmutated")


if __name__ == "__main__":
    main(sys.argv[1:])
