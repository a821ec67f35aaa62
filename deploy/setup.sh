#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the main job need.
# Idempotent, and silent when nothing is missing; says what it installs
# and where it is while it does. Run as root (or with sudo).
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
  iproute2                 # network namespaces: the test cluster of tests/cluster/
  python3-torch            # PyTorch 1.13.1 for the numerical reference scripts
  python3-crc32c           # the independent TensorBoard-file reader in the tests
  python3-regex            # Unicode patterns of the tokenizer reference (tasks/testdata/)
  python3-matplotlib       # the plots of experiments/reproduce.sh and deploy/report.sh
  time                     # a rank's peak memory (tests/memory_plan_test.sh)
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

# apt's own output is hundreds of lines; this says where it is every 20 s.
# On the development machine the first install took 1 min 17 s (306
# packages with their dependencies, /var/log/apt/history.log), longer from a
# slow mirror.
apt_progress() {
  local start=$SECONDS last=$SECONDS total="?" fetched=0 set_up=0 line
  while true; do
    if IFS= read -r -t 5 line; then
      case "$line" in
        Get:*) fetched=$((fetched + 1)) ;;
        "Setting up "*) set_up=$((set_up + 1)) ;;
        *" newly installed"*)
          total=$(sed -n 's/.* \([0-9][0-9]*\) newly installed.*/\1/p' <<<"$line") ;;
        "Need to get "*) echo "deploy/setup.sh: apt: $line" ;;
        E:* | W:* | *rror*) echo "$line" ;;
      esac
    elif [[ $? -le 128 ]]; then
      break  # end of apt's output
    fi
    if ((SECONDS - last >= 20)); then
      echo "deploy/setup.sh: $fetched downloaded, $set_up of $total set up ($((SECONDS - start)) s)"
      last=$SECONDS
    fi
  done
}

echo "deploy/setup.sh: installing ${missing[*]} (with their dependencies;" \
  "about 1-2 minutes from a fast mirror, a line every 20 s)"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1 |
  apt_progress
echo "deploy/setup.sh: done"
