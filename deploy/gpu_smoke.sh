#!/bin/bash
# The GPU smoke check, for a machine with one NVIDIA GPU and no Bazel or MPI:
# builds the GPU programs (deploy/gpu/build.sh, which says what it needs and
# where it looks), then on cuda:0 runs a one-rank NCCL all-reduce, the
# CPU/CUDA tensor routing, a MetaRM step and a PPO update (each checked
# against the same step on the CPU), and prints timings.
#
#   deploy/gpu_smoke.sh [--build-only] [--out DIR]
#
# Exit codes: 0 every check passed, 1 a check failed, 2 a requirement is
# missing (named), 3 built but no CUDA device is visible.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_only=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) build_only=1 ;;
    --out) out="$2"; shift ;;
    *) echo "gpu_smoke: unknown argument $1 (usage: $0 [--build-only] [--out DIR])" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$(mktemp -d /tmp/metarm_gpu_smoke.XXXXXX)}
"$here/deploy/gpu/build.sh" --out "$out"
[ "$build_only" = 1 ] && exit 0
source "$out/build.env"
exec "$out/gpu_smoke"
