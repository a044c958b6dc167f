#!/usr/bin/env bash
# Mutation testing with mutmut (issue 12, part 5). Not run in CI: it is CPU-heavy (hours on 2 cores).
#   bash scripts/mutation.sh                 # every mutant of [tool.mutmut] (pyproject.toml)
#   bash scripts/mutation.sh 'theory.objective*' 'proofs_check.search*'   # only mutants matching these globs
# Each mutant runs only the tests that execute the mutated function (mutmut's stats pass), with -x.
# Results: `.venv/bin/mutmut results` (survivors), `.venv/bin/mutmut export-cicd-stats` (counts in
# mutants/mutmut-cicd-stats.json); results/mutation/ holds the committed score and survivors.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/mutmut ] || .venv/bin/python -m pip install -q -e ".[test,mutation]"
export CI=true  # derandomised hypothesis: a mutant is killed or not, the same every run
nice -n 10 .venv/bin/mutmut run --max-children "${MUTMUT_CHILDREN:-1}" "$@"
.venv/bin/mutmut export-cicd-stats
