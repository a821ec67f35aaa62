#!/usr/bin/env bash
# The source list of deploy/gpu/build.sh, from Bazel: every project .cc and
# .proto file that the programs it builds depend on under --config=cuda (the
# NCCL backend, not its stub). The programs are metarm_train, the learner
# benchmark and the GPU smoke check (whose libraries are
# //deploy/gpu_smoke:gpu_smoke_deps: Bazel does not build gpu_smoke.cc).
#
#   deploy/gpu/list_sources.sh           # rewrites sources.txt
#   deploy/gpu/list_sources.sh --check   # exit 1 if sources.txt is stale
set -euo pipefail
cd "$(dirname "$0")/../.."
list=deploy/gpu/sources.txt
programs='//trainer:metarm_train + //bench:metarm_learner_bench + //deploy/gpu_smoke:gpu_smoke_deps'
current=$( (bazel cquery --config=cuda --noshow_progress --ui_event_filters=-info \
  "kind(\"source file\", deps($programs))" 2>/dev/null |
  sed -n -E 's#^//([^:]*):([^ ]*\.(cc|proto)) .*#\1/\2#p' |
  grep -v '^third_party/'; echo deploy/gpu_smoke/gpu_smoke.cc) | LC_ALL=C sort)
if [[ "${1:-}" == "--check" ]]; then
  if [[ "$current" != "$(cat "$list")" ]]; then
    echo "deploy/gpu/sources.txt is stale; run deploy/gpu/list_sources.sh. Bazel says:" >&2
    diff <(echo "$current") "$list" >&2 || true
    exit 1
  fi
  echo "deploy/gpu/sources.txt matches Bazel's sources of the GPU programs"
  exit 0
fi
echo "$current" >"$list"
echo "wrote $list ($(wc -l <"$list") files)"
