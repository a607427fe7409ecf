#!/usr/bin/env bash
# GPU check: on a machine with one CUDA GPU and PyTorch, run the GPU tests and the throughput
# benchmark (eager vs AMP vs AMP + compile). Installs nothing: the package is used from this
# checkout through PYTHONPATH. Finishes in well under 8 minutes on an H100.
#
#   bash benchmarks/gpu_check.sh            # results go to ./gpu-check/ (or $OUT)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
out="${OUT:-gpu-check}"
mkdir -p "$out"
recipe="${RECIPE:-shapes-64}"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'bf16', torch.cuda.is_bf16_supported())" | tee -a "$out/gpu.txt"

# The GPU tests (addopts cleared: nbval is not needed here).
timeout 300 python3 -m pytest -q -o addopts="" -p no:cacheprovider tests/test_gpu.py \
  2>&1 | tee "$out/tests.txt"

timeout 300 python3 benchmarks/throughput.py --recipe "$recipe" --device cuda --steps 60 \
  --warmup 15 --json "$out/throughput.json" 2>&1 | grep -v "^STAGE:\|profiler" \
  | tee "$out/throughput.txt"
