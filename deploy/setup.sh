#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the main job need.
# Idempotent, and silent when nothing is missing. Run as root (or with sudo).
set -euo pipefail

packages=(
  bazel-bootstrap          # the build system (Bazel 4.2.3)
  g++
  libtorch-dev             # LibTorch 1.13.1, CPU
  libopenblas0-openmp      # fast BLAS for LibTorch (the reference BLAS is ~15x slower)
  libopenmpi-dev openmpi-bin
  libprotobuf-dev protobuf-compiler
  libabsl-dev
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev # libFuzzer, for the fuzz targets (tests/fuzz/)
  nlohmann-json3-dev       # JSON
  libpcre2-dev             # Unicode regular expressions (GPT-2 BPE)
  libsentencepiece-dev     # SentencePiece tokenizers
  zlib1g-dev               # gzip
  libcrcutil-dev           # CRC-32C for TensorBoard event files
  slurm-wlm munge libpmix2 # the one-machine Slurm cluster of tests/slurm/
  python3-torch            # PyTorch 1.13.1 for the numerical reference scripts
  python3-crc32c           # the independent TensorBoard-file reader in the tests
  python3-regex            # Unicode patterns of the tokenizer reference (tasks/testdata/)
  python3-matplotlib       # the plots of experiments/reproduce.sh
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deploy/setup.sh: installing ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deploy/setup.sh: done"
