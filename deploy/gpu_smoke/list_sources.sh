#!/usr/bin/env bash
# The source list of deploy/gpu_smoke.sh, from Bazel: every project .cc file
# and .proto file that //deploy/gpu_smoke:gpu_smoke_deps depends on under
# --config=cuda (the NCCL backend, not its stub).
#
#   deploy/gpu_smoke/list_sources.sh           # rewrites sources.txt
#   deploy/gpu_smoke/list_sources.sh --check   # exit 1 if sources.txt is stale
set -euo pipefail
cd "$(dirname "$0")/../.."
list=deploy/gpu_smoke/sources.txt
current=$(bazel cquery --config=cuda --noshow_progress --ui_event_filters=-info \
  'kind("source file", deps(//deploy/gpu_smoke:gpu_smoke_deps))' 2>/dev/null |
  sed -n -E 's#^//([^:]*):([^ ]*\.(cc|proto)) .*#\1/\2#p' |
  grep -v '^third_party/' | LC_ALL=C sort)
if [[ "${1:-}" == "--check" ]]; then
  if [[ "$current" != "$(cat "$list")" ]]; then
    echo "deploy/gpu_smoke/sources.txt is stale; run deploy/gpu_smoke/list_sources.sh. Bazel says:" >&2
    diff <(echo "$current") "$list" >&2 || true
    exit 1
  fi
  echo "deploy/gpu_smoke/sources.txt matches Bazel's sources of //deploy/gpu_smoke:gpu_smoke_deps"
  exit 0
fi
echo "$current" >"$list"
echo "wrote $list ($(wc -l <"$list") files)"
