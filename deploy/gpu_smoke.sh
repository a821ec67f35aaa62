#!/bin/bash
# The GPU smoke check, for a machine with one NVIDIA GPU and no Bazel or MPI:
# builds the GPU parts of metarm with one plain compiler command per file,
# then on cuda:0 runs a one-rank NCCL all-reduce, the CPU/CUDA tensor
# routing, a MetaRM step and a PPO update (each checked against the same
# step on the CPU), and prints timings.
#
#   deploy/gpu_smoke.sh [--build-only] [--out DIR]
#
# What it needs, and where it looks (override with the variables):
#   g++ (C++17, or C++20 where the LibTorch headers ask for it)
#   a CUDA LibTorch   TORCH_DIR: a folder with include/ and lib/; default the
#                     `torch` package of python3 (a PyTorch wheel has both)
#   CUDA runtime      CUDA_HOME (default /usr/local/cuda): include/cuda_runtime.h;
#                     libcudart from the PyTorch wheel's nvidia/ packages, else
#                     CUDA_HOME/lib64
#   NCCL              NCCL_HOME: include/nccl.h and lib/libnccl.so*; default
#                     the wheel's nvidia/ packages, else CUDA_HOME
#   protobuf, abseil  DEPS_PREFIX (default /usr): include/ with google/protobuf
#                     and absl, lib/ (or lib/x86_64-linux-gnu/) with their
#                     libraries, bin/protoc; deploy/gpu_smoke_bundle.sh packs
#                     Debian's into a folder for a machine without them
#   JOBS              parallel compiles (default: the CPU count)
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
mkdir -p "$out/obj/proto"

need() {  # need WHAT PATH: PATH must exist
  if [ ! -e "$2" ]; then
    echo "gpu_smoke: needs $1: $2 is missing" >&2
    exit 2
  fi
}

python_torch_dir() {
  python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true
}

TORCH_DIR=${TORCH_DIR:-$(python_torch_dir)}
[ -n "$TORCH_DIR" ] || { echo "gpu_smoke: needs a CUDA LibTorch: set TORCH_DIR (python3 has no torch)" >&2; exit 2; }
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
for pair in "CUDA headers (cuda_runtime.h):$cuda_include" "libcudart:$cudart_lib" \
            "NCCL headers (nccl.h):$nccl_include" "libnccl:$nccl_lib" \
            "libprotobuf (DEPS_PREFIX):$deps_lib"; do
  [ -n "${pair#*:}" ] || { echo "gpu_smoke: needs ${pair%%:*}; not found (see the variables in $0)" >&2; exit 2; }
done
need "abseil headers (DEPS_PREFIX)" "$DEPS_PREFIX/include/absl/status/status.h"
need "protobuf headers (DEPS_PREFIX)" "$DEPS_PREFIX/include/google/protobuf/message.h"
PROTOC=${PROTOC:-$DEPS_PREFIX/bin/protoc}
need "protoc (DEPS_PREFIX/bin or PROTOC)" "$PROTOC"
export LD_LIBRARY_PATH="$deps_lib:$TORCH_DIR/lib:$cudart_lib:$nccl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The LibTorch's own C++ ABI and standard.
abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null || echo 1)
# Libraries' headers as system headers: their warnings are not ours.
# protobuf and abseil first: they must match the libraries linked, whatever
# other copies a LibTorch folder carries.
# (/usr/include is the compiler's own: naming it again breaks #include_next.)
includes=(-I"$here" -I"$out/obj")
for dir in "$DEPS_PREFIX/include" "$TORCH_DIR/include" \
           "$TORCH_DIR/include/torch/csrc/api/include" "$cuda_include" "$nccl_include"; do
  [ "$(readlink -f "$dir")" = /usr/include ] || includes+=(-isystem "$dir")
done
std=c++17
echo '#include <torch/torch.h>' > "$out/probe.cc"
if ! g++ -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=$abi "${includes[@]}" -fsyntax-only "$out/probe.cc" 2>/dev/null; then
  std=c++20
fi
flags=(-std=$std -O2 -fPIC -D_GLIBCXX_USE_CXX11_ABI=$abi -DMETARM_CUDA=1 "${includes[@]}")
echo "gpu_smoke: LibTorch $TORCH_DIR ($std, C++11 ABI $abi); NCCL $nccl_lib; build in $out"

# The sources: gpu_smoke.cc and what Bazel says the check's libraries are
# made of (deploy/gpu_smoke/sources.txt, written by list_sources.sh; the
# .proto files are compiled by protoc first).
sources=()
while read -r file; do
  case "$file" in
    *.proto)
      "$PROTOC" --proto_path="$here" --cpp_out="$out/obj" "$file"
      sources+=("$out/obj/${file%.proto}.pb.cc") ;;
    *.cc) sources+=("$file") ;;
  esac
done <"$here/deploy/gpu_smoke/sources.txt"
sources+=(deploy/gpu_smoke/gpu_smoke.cc)
object_of() {  # a unique object name for a source path
  local relative=${1#"$out/obj/"}
  echo "$out/obj/$(echo "${relative%.cc}" | tr / _).o"
}
start=$(date +%s)
for source in "${sources[@]}"; do
  case "$source" in /*) path=$source ;; *) path=$here/$source ;; esac
  object=$(object_of "$source")
  echo "g++ ${flags[*]} -c $path -o $object"
done | xargs -P "${JOBS:-$(nproc)}" -I{} sh -c '{}' || { echo "gpu_smoke: a compile failed" >&2; exit 1; }
objects=()
for source in "${sources[@]}"; do objects+=("$(object_of "$source")"); done

torch_libs=(-ltorch -ltorch_cpu -lc10)
if [ -e "$TORCH_DIR/lib/libtorch_cuda.so" ]; then
  # Linked even though no symbol is used directly: loading it registers
  # LibTorch's CUDA backend.
  torch_libs=(-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed "${torch_libs[@]}")
fi
absl_libs=()
for lib in "$deps_lib"/libabsl_*.so; do absl_libs+=("-l:$(basename "$lib")"); done
g++ -o "$out/gpu_smoke" "${objects[@]}" \
  -L"$TORCH_DIR/lib" -L"$deps_lib" -L"$cudart_lib" -L"$nccl_lib" \
  "${torch_libs[@]}" -l:"$(basename "$(ls "$nccl_lib"/libnccl.so* | head -1)")" \
  -l:"$(basename "$(ls "$cudart_lib"/libcudart.so* | head -1)")" \
  -lprotobuf "${absl_libs[@]}" -lpthread \
  -Wl,-rpath,"$TORCH_DIR/lib:$deps_lib:$cudart_lib:$nccl_lib"
echo "gpu_smoke: built $out/gpu_smoke in $(( $(date +%s) - start )) s"
[ "$build_only" = 1 ] && exit 0
exec "$out/gpu_smoke"
