#!/usr/bin/env bash
# bench/run.sh --smoke with the suite's binaries: every figure is produced
# and every benchmark's own correctness check passes.
set -uo pipefail
learner_bench=$1
work=${TEST_TMPDIR:-$(mktemp -d)}
source "$(dirname "$0")/check_lib.sh"
out=$(METARM_BENCH_BIN="$(cd "$(dirname "$learner_bench")" && pwd)" METARM_BENCH_THREADS=1 \
      bench/run.sh --smoke --out "$work/bench" 2>&1)
code=$?
check "bench/run.sh --smoke exits 0 (every check passed)" test "$code" -eq 0
check "results.json lists every figure" /usr/bin/python3 - "$work/bench/results.json" <<'PY'
import json, sys
names = {f["name"] for f in json.load(open(sys.argv[1]))["figures"]}
want = {"gemm_peak", "metarm_step_mfu", "vanilla_rm_step_mfu", "ppo_update_mfu",
        "metarm_step_samples_per_second", "generation_kv_cache_speedup",
        "kv_cache_bytes_per_sequence", "python_over_cpp_metarm_step",
        "python_over_cpp_ppo_update", "python_over_cpp_generation",
        "weight_sync_bucketed_over_flat", "weight_sync_per_tensor_over_flat",
        "grad_allreduce_effective_bandwidth_ratio", "zero1_optimizer_state_share",
        "zero1_max_parameter_difference", "zero1_step_sharded_over_replicated"}
missing = want - names
print("missing:", sorted(missing)) if missing else print(len(names), "figures")
sys.exit(1 if missing else 0)
PY
check "the table is printed" has "figures in"
finish_checks bench_smoke
