#!/bin/bash
# Runs a command where this machine's own copies of what deploy/gpu_bundle.sh
# carries (protobuf, abseil, SentencePiece, crcutil, nlohmann/json, Open MPI
# and PMIx) cannot be seen, as on a GPU machine that lacks them: in a private
# mount namespace their folders are covered by an empty one and their files
# by /dev/null, so a build or a run that still reaches for one fails.
# Nothing outside the command sees a change, and the mounts go with it.
#
#   deploy/gpu/without_system_deps.sh COMMAND [ARGS...]   (as root)
#
# Exit code: the command's, or 2 when this machine cannot make the namespace.
set -euo pipefail
if [ "${METARM_IN_PRIVATE_MOUNTS:-}" != 1 ]; then
  unshare --mount --propagation private true 2>/dev/null || {
    echo "without_system_deps: cannot make a private mount namespace here (needs root and unshare)" >&2
    exit 2
  }
  METARM_IN_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
unset METARM_IN_PRIVATE_MOUNTS
empty=$(mktemp -d)
arch=/usr/lib/x86_64-linux-gnu
folders=(
  "$arch/openmpi" "$arch/pmix2" /usr/share/openmpi /etc/openmpi
  /usr/include/absl /usr/include/google/protobuf /usr/include/nlohmann
  /usr/include/crcutil
)
files=(
  /usr/bin/orterun /usr/bin/orted /usr/bin/protoc
  /usr/include/sentencepiece_processor.h /usr/include/sentencepiece_trainer.h
)
for pattern in 'libmpi.so.*' 'libopen-pal.so.*' 'libopen-rte.so.*' \
  'libprotobuf.so.*' 'libprotoc.so.*' 'libabsl_*.so.*' 'libsentencepiece*.so.*' \
  'libcrcutil.so.*' 'libhwloc.so.*' 'libevent_core-*.so.*' 'libevent_pthreads-*.so.*' \
  'libpmix.so.*'; do
  for file in "$arch"/$pattern; do
    # The real file, once: its other names are links to it.
    [ -f "$file" ] && [ ! -L "$file" ] && files+=("$file")
  done
done
for folder in "${folders[@]}"; do [ -d "$folder" ] && mount --bind "$empty" "$folder"; done
for file in "${files[@]}"; do [ -e "$file" ] && mount --bind /dev/null "$file"; done
exec "$@"
