#!/bin/bash
# Builds metarm's GPU programs without Bazel, one plain compiler command per
# file: metarm_train, metarm_learner_bench and gpu_smoke, from the sources
# Bazel names (deploy/gpu/sources.txt), into one folder. deploy/gpu_check.sh
# and deploy/gpu_smoke.sh call it; it builds against any LibTorch, so the
# same build runs on this machine's CPU LibTorch (the checks' dry runs).
#
#   deploy/gpu/build.sh --out DIR
#
# What it needs, and where it looks (override with the variables):
#   g++ (C++17, or C++20 where the LibTorch headers ask for it)
#   a LibTorch        TORCH_DIR: a folder with include/ and lib/; default the
#                     `torch` package of python3 (a PyTorch wheel has both)
#   CUDA runtime      CUDA_HOME (default /usr/local/cuda): include/cuda_runtime.h;
#                     libcudart from the PyTorch wheel's nvidia/ packages, else
#                     CUDA_HOME/lib64
#   NCCL              NCCL_HOME: include/nccl.h and lib/libnccl.so*; default
#                     the wheel's nvidia/ packages, else CUDA_HOME
#   the rest          DEPS_PREFIX (default /usr): protobuf, abseil,
#                     SentencePiece, crcutil, PCRE2, zlib, nlohmann/json and
#                     Open MPI, headers in include/ and libraries in lib/ (or
#                     lib/x86_64-linux-gnu/), protoc in bin/;
#                     deploy/gpu_bundle.sh packs Debian's into one folder
#   PYTHON            the python3 whose torch package is the LibTorch's
#                     (default python3)
#   JOBS              parallel compiles (default: the CPU count)
#   OPT               optimisation flag (default -O2)
#
# Exit codes: 0 built, 1 a compile or link failed, 2 a requirement is
# missing (named). DIR/build.env says where the libraries and mpirun are,
# for the programs' callers: `source DIR/build.env`.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift ;;
    *) echo "gpu/build: unknown argument $1 (usage: $0 --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$out" ] || { echo "gpu/build: --out DIR is required" >&2; exit 2; }
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

need() {  # need WHAT PATH: PATH must exist
  if [ ! -e "$2" ]; then
    echo "gpu/build: needs $1: $2 is missing" >&2
    exit 2
  fi
}

PYTHON=${PYTHON:-python3}
python_torch_dir() {
  "$PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true
}

TORCH_DIR=${TORCH_DIR:-$(python_torch_dir)}
[ -n "$TORCH_DIR" ] || { echo "gpu/build: needs a LibTorch: set TORCH_DIR (python3 has no torch)" >&2; exit 2; }
need "LibTorch headers (TORCH_DIR)" "$TORCH_DIR/include/torch/csrc/api/include/torch/torch.h"
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
DEPS_PREFIX=${DEPS_PREFIX:-/usr}
site=$(dirname "$TORCH_DIR")

first_dir_of() {  # first_dir_of NAME DIRS...: the folder holding NAME
  local name=$1; shift
  for dir in "$@"; do
    [ -d "$dir" ] || continue
    local hit
    hit=$(find -L "$dir" -name "$name" -print -quit 2>/dev/null || true)
    if [ -n "$hit" ]; then dirname "$hit"; return; fi
  done
}

cuda_include=$(first_dir_of cuda_runtime.h "$CUDA_HOME/include" "$site/nvidia")
cudart_lib=$(first_dir_of 'libcudart.so*' "$site/nvidia" "$CUDA_HOME/lib64" "$CUDA_HOME/lib")
nccl_include=$(first_dir_of nccl.h ${NCCL_HOME:+"$NCCL_HOME/include"} "$site/nvidia" "$CUDA_HOME/include")
nccl_lib=$(first_dir_of 'libnccl.so*' ${NCCL_HOME:+"$NCCL_HOME/lib"} "$site/nvidia" "$CUDA_HOME/lib64" "$CUDA_HOME/lib")
deps_lib=$(first_dir_of 'libprotobuf.so*' "$DEPS_PREFIX/lib/x86_64-linux-gnu" "$DEPS_PREFIX/lib")
mpi_include=$(first_dir_of mpi.h "$DEPS_PREFIX/include" "$DEPS_PREFIX/lib/x86_64-linux-gnu/openmpi/include")
for pair in "CUDA headers (cuda_runtime.h):$cuda_include" "libcudart:$cudart_lib" \
            "NCCL headers (nccl.h):$nccl_include" "libnccl:$nccl_lib" \
            "libprotobuf (DEPS_PREFIX):$deps_lib" "Open MPI headers (mpi.h, DEPS_PREFIX):$mpi_include"; do
  [ -n "${pair#*:}" ] || { echo "gpu/build: needs ${pair%%:*}; not found (see the variables in $0)" >&2; exit 2; }
done
for header in absl/status/status.h google/protobuf/message.h sentencepiece_processor.h \
              crcutil/generic_crc.h pcre2.h zlib.h nlohmann/json.hpp; do
  need "the header $header (DEPS_PREFIX)" "$DEPS_PREFIX/include/$header"
done
PROTOC=${PROTOC:-$DEPS_PREFIX/bin/protoc}
[ -x "$DEPS_PREFIX/bin/protoc.sh" ] && PROTOC=$DEPS_PREFIX/bin/protoc.sh
need "protoc (DEPS_PREFIX/bin or PROTOC)" "$PROTOC"
export LD_LIBRARY_PATH="$deps_lib:$TORCH_DIR/lib:$cudart_lib:$nccl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The LibTorch's own C++ ABI and standard.
abi=$("$PYTHON" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
# Libraries' headers as system headers: their warnings are not ours.
# The dependencies' first: they must match the libraries linked, whatever
# other copies (protobuf, abseil) a LibTorch folder carries.
# (/usr/include is the compiler's own: naming it again breaks #include_next.)
includes=(-I"$here" -I"$out/obj")
for dir in "$DEPS_PREFIX/include" "$DEPS_PREFIX/include/crcutil" "$mpi_include" \
           "$TORCH_DIR/include" "$TORCH_DIR/include/torch/csrc/api/include" \
           "$cuda_include" "$nccl_include"; do
  [ "$(readlink -f "$dir")" = /usr/include ] || includes+=(-isystem "$dir")
done
std=c++17
echo '#include <torch/torch.h>' > "$out/probe.cc"
if ! g++ -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=$abi "${includes[@]}" -fsyntax-only "$out/probe.cc" 2>/dev/null; then
  std=c++20
fi
# OMPI_SKIP_MPICXX: mpi.h without Open MPI's C++ bindings (unused; their
# headers are not in the bundle).
flags=(-std=$std "${OPT:--O2}" -fPIC -D_GLIBCXX_USE_CXX11_ABI=$abi -DMETARM_CUDA=1
       -DOMPI_SKIP_MPICXX=1 "${includes[@]}")
echo "gpu/build: LibTorch $TORCH_DIR ($std, C++11 ABI $abi); NCCL $nccl_lib; libraries $deps_lib; build in $out"

# Objects of other flags (another LibTorch, prefix or OPT) are not reused.
if [ "$(cat "$out/obj/flags.txt" 2>/dev/null)" != "${flags[*]}" ]; then
  rm -f "$out"/obj/*.o "$out"/obj/*.gch
  echo "${flags[*]}" >"$out/obj/flags.txt"
fi
# LibTorch's headers, parsed once: a precompiled header that every file
# includes first halves the build (about 10 s of each file's compile is
# torch/torch.h). Without it where the compiler cannot make one.
pch=$out/obj/torch_all.h
echo '#include <torch/torch.h>' >"$pch"
if [ ! -e "$pch.gch" ] && ! g++ "${flags[@]}" -x c++-header "$pch" -o "$pch.gch" 2>"$out/pch.log"; then
  echo "gpu/build: no precompiled header (see $out/pch.log); compiling without"
  rm -f "$pch.gch"
fi
[ -e "$pch.gch" ] && flags+=(-include "$pch")

# The programs' main files; every other source goes into one archive, from
# which each program takes what it uses.
mains=(trainer/main.cc bench/learner_bench.cc deploy/gpu_smoke/gpu_smoke.cc)
programs=(metarm_train metarm_learner_bench gpu_smoke)
sources=()
while read -r file; do
  case "$file" in
    *.proto)
      generated=$out/obj/${file%.proto}.pb.cc
      [ "$generated" -nt "$here/$file" ] ||
        "$PROTOC" --proto_path="$here" --cpp_out="$out/obj" "$file"
      sources+=("$generated") ;;
    *.cc) sources+=("$file") ;;
  esac
done <"$here/deploy/gpu/sources.txt"
object_of() {  # a unique object name for a source path
  local relative=${1#"$out/obj/"}
  echo "$out/obj/$(echo "${relative%.cc}" | tr / _).o"
}
start=$(date +%s)
# An object newer than its source and than every header of the project is
# kept: a rerun compiles only what an edit touched (a header edit: all).
headers_stamp=$out/obj/headers.stamp
newest_header=$(find "$here" -name '*.h' -not -path '*/bazel-*' -printf '%T@\n' | sort -n | tail -1)
touch -d "@${newest_header:-0}" "$headers_stamp"
compiles=()
for source in "${sources[@]}"; do
  case "$source" in /*) path=$source ;; *) path=$here/$source ;; esac
  object=$(object_of "$source")
  [ "$object" -nt "$path" ] && [ "$object" -nt "$headers_stamp" ] && continue
  compiles+=("g++ ${flags[*]} -c $path -o $object")
done
if [ ${#compiles[@]} -eq 0 ] && [ -e "$out/build.env" ]; then
  echo "gpu/build: ${programs[*]} in $out are up to date"
  exit 0
fi
printf '%s\n' "${compiles[@]}" | xargs -P "${JOBS:-$(nproc)}" -I{} sh -c '{}' ||
  { echo "gpu/build: a compile failed" >&2; exit 1; }
library_objects=()
for source in "${sources[@]}"; do
  case " ${mains[*]} " in *" $source "*) continue ;; esac
  library_objects+=("$(object_of "$source")")
done
rm -f "$out/libmetarm.a" "$out/build.env"
ar rcs "$out/libmetarm.a" "${library_objects[@]}"

library_file() {  # library_file DIR NAME: -l:FILE for libNAME.so or its soname
  local file
  file=$(ls "$1/lib$2.so" "$1"/lib"$2".so.* 2>/dev/null | head -1 || true)
  [ -n "$file" ] || { echo "gpu/build: needs lib$2.so* in $1" >&2; exit 2; }
  echo "-l:$(basename "$file")"
}
torch_libs=(-ltorch -ltorch_cpu -lc10)
if [ -e "$TORCH_DIR/lib/libtorch_cuda.so" ]; then
  # Linked even though no symbol is used directly: loading it registers
  # LibTorch's CUDA backend.
  torch_libs=(-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed "${torch_libs[@]}")
fi
deps_libs=()
for name in protobuf sentencepiece_train sentencepiece crcutil pcre2-8 z mpi; do
  deps_libs+=("$(library_file "$deps_lib" "$name")")
done
# Every abseil library once, by whichever name this prefix has.
for stem in $(ls "$deps_lib"/libabsl_*.so* | sed -E 's#.*/lib(absl_[a-z0-9_]+)\.so.*#\1#' | sort -u); do
  deps_libs+=("$(library_file "$deps_lib" "$stem")")
done
for index in "${!programs[@]}"; do
  g++ -o "$out/${programs[$index]}" "$(object_of "${mains[$index]}")" "$out/libmetarm.a" \
    -L"$TORCH_DIR/lib" -L"$deps_lib" -L"$cudart_lib" -L"$nccl_lib" \
    "${torch_libs[@]}" "$(library_file "$nccl_lib" nccl)" "$(library_file "$cudart_lib" cudart)" \
    "${deps_libs[@]}" -lpthread -ldl \
    -Wl,-rpath,"$TORCH_DIR/lib:$deps_lib:$cudart_lib:$nccl_lib" ||
    { echo "gpu/build: linking ${programs[$index]} failed" >&2; exit 1; }
done
mpirun=$DEPS_PREFIX/bin/mpirun
[ -x "$mpirun" ] || mpirun=$(command -v mpirun || true)
cat >"$out/build.env" <<ENV
# Written by deploy/gpu/build.sh: what the programs in this folder run with.
export LD_LIBRARY_PATH="$LD_LIBRARY_PATH"
METARM_MPIRUN="$mpirun"
ENV
echo "gpu/build: built ${programs[*]} in $out in $(( $(date +%s) - start )) s"
