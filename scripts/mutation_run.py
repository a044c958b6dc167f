"""mutmut 3.8.1, as scripts/mutation.sh runs it (issue 12, part 5; never CI). Run from the repository root
with the mutation venv's python::

    .venv-mutation/bin/python scripts/mutation_run.py generate          # mutants/ only (no test run)
    .venv-mutation/bin/python scripts/mutation_run.py run NAME...       # mutmut run NAME... (see below)

Two things differ from a plain ``mutmut run``, both for time on a shared 2-core machine, neither in what a
mutant's verdict means:

- ``generate`` makes ``mutants/`` with mutmut's own functions (copy the sources, mutate them) so that the
  mutants can be sampled before any test runs;
- mutmut runs the selected tests once more "clean" before testing mutants. Its stats pass has already run
  exactly these tests on the unmutated copy, with ``-x``, and stops if any fails; the second clean run
  (about 20 minutes here) is replaced by a collection of the same tests, which imports them into the
  process the mutants are forked from (what mutmut's ``forkserver_warmup = "collect"`` does) and fails
  if they do not import.
"""
from __future__ import annotations

import sys


def _warm_up_instead_of_clean_run(self, tests) -> int:
    from mutmut.utils.file_utils import change_cwd

    with change_cwd("mutants"):
        return int(self.test_runner.execute_pytest(["--collect-only", "-qqq"]
                                                   + list(self.test_runner._pytest_add_cli_args_test_selection)))


def main(argv: list[str]) -> None:
    from mutmut.workers import isolation

    if argv[:1] == ["generate"]:
        from pathlib import Path

        from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
        from mutmut.mutation.trampoline import set_mutant_under_test

        set_mutant_under_test("mutant_generation")
        Path("mutants").mkdir(exist_ok=True)
        copy_src_dir()
        copy_also_copy_files()
        setup_source_paths()
        stats = create_mutants(int(argv[1]) if len(argv) > 1 else 2)
        print(f"{stats.mutated} files mutated, {stats.ignored} copied unmutated")
        return
    isolation.ForkRunner.run_clean_tests = _warm_up_instead_of_clean_run
    from mutmut.__main__ import cli

    sys.argv = ["mutmut"] + argv
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
