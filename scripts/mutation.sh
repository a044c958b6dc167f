#!/usr/bin/env bash
# Mutation testing with mutmut 3.8.1 (issue 12, part 5). Not run in CI: CPU-heavy.
#   bash scripts/mutation.sh                      # every mutant of numerics/metrics.py + numerics/sparse_decode.py,
#                                                 # and a seeded uniform sample of the theory/ + proofs_check/ mutants
#   SEED=0 SAMPLE=100 CHILDREN=2 bash scripts/mutation.sh
#   bash scripts/mutation.sh --names FILE          # re-test exactly these mutants (e.g. after adding tests)
# Each mutant runs only the selected tests ([tool.mutmut] in pyproject.toml) that execute the mutated
# function (mutmut's stats pass), with -x, under mutmut's CPU-time limit of 30 × (those tests' clean time + 1 s).
# scripts/mutation_run.py is mutmut's own run, its second clean test run replaced by a collection (see there).
# Results: results/mutation/summary.json (counts, kill rate, 95% interval), survivors.md, names.txt.
#
# Why a venv of its own: mutmut puts mutants/ first on sys.path, but in .venv the project is installed
# editable, and setuptools' editable finder served the source tree instead of mutants/ (mutmut then saw no
# test reach any mutant). .venv-mutation has mutmut and, through a plain path entry (a .pth line, which does
# not run .venv's own .pth files, so not the editable finder), .venv's installed dependencies, but not the
# project: `import theory` resolves only to mutants/theory.
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venv-mutation
OUT=${OUT:-results/mutation}
if [ ! -x "$V/bin/mutmut" ]; then
  [ -x .venv/bin/python ] || bash scripts/setup.sh --test
  python3 -m venv "$V"
  .venv/bin/python -m pip freeze --exclude-editable > "$V/constraints.txt"
  "$V/bin/python" -m pip install -q --disable-pip-version-check -c "$V/constraints.txt" "mutmut==3.8.1"
  site=$("$V/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  .venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/sdl_theory_deps.pth"
fi
R=$(pwd)
if ! (cd /tmp && "$R/$V/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("theory") is not None)'); then
  echo "error: the project is importable from $V outside mutants/ (an editable install?); mutmut would test the source tree" >&2
  exit 1
fi
export CI=true OMP_NUM_THREADS=1 MKL_NUM_THREADS=1  # derandomised hypothesis; one thread per forked child
# tests that start `python -m sdl_theory` or `python -c "import theory"` import the mutated copy too
export PYTHONPATH="$R/mutants"
CHILDREN=${CHILDREN:-2}
# mutants/ must exist before python starts: a sys.path entry that is missing at start-up is cached as
# unimportable (sys.path_importer_cache), and the tests then import a namespace package instead
mkdir -p mutants
if [ "${1:-}" = "--names" ]; then
  names_file=$2
else
  # every mutant first (no test runs), then the sample: all of numerics/metrics.py and numerics/sparse_decode.py,
  # and SAMPLE of the theory/ + proofs_check/ mutants (seed SEED)
  nice -n 10 "$V/bin/python" scripts/mutation_run.py generate "$CHILDREN"
  names_file=$(mktemp)
  "$V/bin/python" scripts/mutation_select.py select --seed "${SEED:-0}" --sample "${SAMPLE:-100}" > "$names_file"
fi
mapfile -t names < "$names_file"
# a mutant whose function no selected test executes gets mutmut's "no tests" (counted as not killed)
nice -n 10 "$V/bin/python" scripts/mutation_run.py run --max-children "$CHILDREN" "${names[@]}"
mkdir -p "$OUT"
cp "$names_file" "$OUT/names.txt"
"$V/bin/python" scripts/mutation_select.py report --names "$OUT/names.txt" --out "$OUT" \
  --meta "{\"command\": \"SEED=${SEED:-0} SAMPLE=${SAMPLE:-100} CHILDREN=$CHILDREN bash scripts/mutation.sh $*\", \"mutmut\": \"3.8.1\", \"seed\": ${SEED:-0}, \"sample\": ${SAMPLE:-150}}"
