#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer, ASan, UBSan) and runs each
# for a bounded time on its seed corpus; a crash, leak or sanitizer report
# fails the run and leaves the input that caused it in the work folder.
#
#   tests/fuzz/run_fuzzers.sh [SECONDS_EACH]     (from the repository root;
#                                                 default 600: the long run)
#
# The test suite runs it for 15 s each (//tests:fuzz_test). Needs Debian's
# clang and libclang-rt (deploy/setup.sh installs them).
set -euo pipefail
seconds=${1:-600}
root=${METARM_FUZZ_ROOT:-}
if [[ -z "$root" ]]; then
  cd "$(dirname "$0")/../.."
  bazel build --ui_event_filters=-info,-stdout --noshow_progress \
    //proto:job_cc_proto_gen
  root=.
  generated=bazel-bin
else
  cd "$root"
  generated=.
fi
work=${TEST_TMPDIR:-$(mktemp -d)}/fuzz
mkdir -p "$work"
absl="-labsl_statusor -labsl_status -labsl_cord -labsl_cord_internal
  -labsl_cordz_info -labsl_cordz_functions -labsl_cordz_handle
  -labsl_strings -labsl_strings_internal -labsl_str_format_internal
  -labsl_raw_logging_internal -labsl_throw_delegate -labsl_int128
  -labsl_synchronization -labsl_time -labsl_time_zone -labsl_base
  -labsl_spinlock_wait -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal
  -labsl_demangle_internal -labsl_malloc_internal -labsl_exponential_biased"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -I. -I"$generated")

build() {  # build NAME SOURCES...
  local name=$1
  shift
  # shellcheck disable=SC2086
  clang++ "${flags[@]}" "$@" -o "$work/$name" -lprotobuf $absl -lz -lpthread
}
build job_spec_fuzzer tests/fuzz/job_spec_fuzzer.cc proto/job_io.cc \
  proto/job_defaults.cc proto/job_validation.cc util/device_spec.cc \
  "$generated/proto/job.pb.cc"
build preference_data_fuzzer tests/fuzz/preference_data_fuzzer.cc \
  tasks/preference_data.cc tasks/prompt_data.cc tasks/chat_format.cc \
  tasks/tokenizer.cc util/file.cc util/gzip_file.cc

# Seed corpora: the job files and data formats the project ships.
mkdir -p "$work/corpus_job" "$work/corpus_data"
cp jobs/*.pbtxt "$work/corpus_job/"
cat >"$work/corpus_data/pairs.jsonl" <<'JSON'
{"prompt": "sort: cab", "chosen": "abc", "rejected": "cba"}
{"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go"}
{"prompt": [1, 5, 6], "chosen": [7, 2], "rejected": [8, 2]}
JSON
cat >"$work/corpus_data/sets.jsonl" <<'JSON'
{"prompt": "sort: ba", "responses": ["ab", "ba"]}
JSON
cat >"$work/corpus_data/prompts.jsonl" <<'JSON'
{"prompt": "\n\nHuman: hi\n\nAssistant:"}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}]}
{"prompt": "Q:", "response": " A"}
JSON
gzip -c "$work/corpus_data/pairs.jsonl" >"$work/corpus_data/pairs.jsonl.gz"

status=0
for target in job_spec_fuzzer:corpus_job preference_data_fuzzer:corpus_data; do
  name=${target%%:*}
  corpus=$work/${target##*:}
  echo "fuzz: $name for $seconds s"
  if ! (cd "$work" && "./$name" -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 "$corpus" 2>&1 | tail -n 12); then
    status=1
  fi
  if ls "$work"/crash-* "$work"/leak-* >/dev/null 2>&1; then
    echo "fuzz: $name found a failing input: $(ls "$work"/crash-* "$work"/leak-* 2>/dev/null)"
    status=1
  fi
done
exit "$status"
