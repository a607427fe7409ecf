#!/usr/bin/env bash
# GPU check: on a machine with one CUDA GPU and PyTorch, run the throughput benchmark (eager
# vs AMP vs AMP + compile) and the GPU tests. Installs nothing: the package is used from this
# checkout through PYTHONPATH. Each stage has its own time limit, and the whole check ends
# within BUDGET seconds (default 420); a stage that fails does not stop the ones after it.
#
#   bash benchmarks/gpu_check.sh            # results go to ./gpu-check/ (or $OUT)
#   RECIPE=shapes BUDGET=300 bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
out="${OUT:-gpu-check}"
mkdir -p "$out"
recipe="${RECIPE:-shapes-64}"
deadline=$((SECONDS + ${BUDGET:-420}))

# stage NAME CAP_SECONDS COMMAND...: run COMMAND for at most CAP seconds (less if the budget
# is nearly spent), log it to $out/NAME.txt, and say how long it took and how it ended.
stage() {
  local name=$1 cap=$2 start=$SECONDS; shift 2
  local left=$((deadline - SECONDS - 5))
  ((left < cap)) && cap=$left
  if ((cap < 20)); then echo "== $name: skipped, budget spent" | tee -a "$out/stages.txt"; return; fi
  timeout "$cap" "$@" 2>&1 | grep -v "^STAGE:\|profiler_st" | tee "$out/$name.txt"
  echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s (cap $cap s)" \
    | tee -a "$out/stages.txt"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', \
torch.__version__, 'cuda', torch.version.cuda, 'bf16', torch.cuda.is_bf16_supported())" \
  | tee -a "$out/gpu.txt"

# The issue's target first: AMP + compile against eager fp32 at the recipe's own batch.
stage throughput 240 python3 benchmarks/throughput.py --recipe "$recipe" --device cuda \
  --steps 60 --warmup 15 --json "$out/throughput.json"
# The GPU tests (addopts cleared: nbval is not needed here).
stage tests 180 python3 -m pytest -q -o addopts="" -p no:cacheprovider tests/test_gpu.py
# With what is left: a 4x larger batch, to see how much of the gap is launch overhead.
stage throughput-512 150 python3 benchmarks/throughput.py --recipe "$recipe" --device cuda \
  --steps 30 --warmup 10 --batch-size 512 --json "$out/throughput-512.json"
