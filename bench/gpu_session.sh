#!/usr/bin/env bash
# The prepared GPU check of issue 8, for a session lent a CUDA machine: one `run` call, under 10 minutes.
# Never in CI. It uses the machine's own python3 (its PyTorch has CUDA; sympy, scipy, safetensors, hypothesis,
# pytest and matplotlib are there too) with this checkout on PYTHONPATH, and writes into $OUT:
#   session.txt         everything printed: GPU, driver and torch; the tests that need CUDA (they skip on a CPU
#                       machine); bench/train_throughput.py at the paper's sizes on the GPU (its step beside the
#                       GPU's own matmul; numbers also in throughput.json); verify's progress
#   verify/             `sdl-theory verify C10 C11 --bench-size paper` (Table 1's own sizes) to convergence, in the
#                       time left (BUDGET seconds in all, default 540); its bench-runs/ make a second call continue
#                       where this one stopped: copy $OUT/verify/bench-runs back into results/table1_paper/bench-runs
#                       and the next call resumes from there (--resume); they come back as bench-runs.tgz (at most
#                       8 files come back from $OUT).
# Usage on the device:  OUT=$OUT bash bench/gpu_session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_session}
PY=${PY:-python3}
BUDGET=${BUDGET:-540}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
T0=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
mkdir -p "$OUT/verify"
exec > >(tee "$OUT/session.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'

echo "== tests that need CUDA"
timeout 150 $PY -m pytest -q -p no:cacheprovider -rs -k "cuda or gpu" tests/numerics 2>&1 | tail -8

echo "== paper-size training step on the GPU"
timeout 120 $PY bench/train_throughput.py --device cuda --json "$OUT/throughput.json"

echo "== verify C10 C11 --bench-size paper (resumable; $(left) s left)"
if [ -d results/table1_paper/bench-runs ]; then cp -r results/table1_paper/bench-runs "$OUT/verify/"; fi
timeout "$(left)" $PY -m sdl_theory verify C10 C11 --bench-size paper --out "$OUT/verify" --resume --no-figures \
  > "$OUT/verify/stdout.txt" 2>&1
echo "verify exit $? ; runs stored: $(ls "$OUT/verify/bench-runs" 2>/dev/null | wc -l)"
tail -15 "$OUT/verify/stdout.txt"
# what comes back from $OUT is at most 8 files, two folders down: pack the runs into one file
if [ -d "$OUT/verify/bench-runs" ]; then
  tar -C "$OUT/verify" -czf "$OUT/bench-runs.tgz" bench-runs && rm -rf "$OUT/verify/bench-runs"
fi
