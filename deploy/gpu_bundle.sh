#!/bin/bash
# Packs what deploy/gpu_check.sh and deploy/gpu_smoke.sh need beyond a CUDA
# LibTorch and a compiler into one folder, from this Debian machine's
# packages, for a GPU machine that has neither Bazel nor these libraries:
#
#   deploy/gpu_bundle.sh DIR          # here (about 40 MB)
#   DEPS_PREFIX=DIR deploy/gpu_check.sh   # there (x86-64, glibc >= 2.36)
#
# DIR/include, DIR/lib   headers and libraries: protobuf, abseil,
#                        SentencePiece, crcutil, PCRE2, zlib, nlohmann/json,
#                        Open MPI (mpi.h, libmpi and what it loads)
# DIR/bin/protoc.sh      protoc, finding its libraries next to it
# DIR/bin/mpirun         Open MPI's launcher, relocated: it sets OPAL_PREFIX
#                        to DIR/openmpi, where the launcher, its plugins and
#                        its help texts lie in Debian's layout
#
# Open MPI's plugins that need network fabrics this bundle does not carry
# (UCX, libfabric, PSM, verbs) are left out: on one GPU machine the ranks talk
# through shared memory and TCP (vader, tcp), and NCCL carries the GPU's data.
set -euo pipefail
dest=${1:?usage: $0 DIR}
arch_lib=/usr/lib/x86_64-linux-gnu
rm -rf "$dest"
mkdir -p "$dest/include/google" "$dest/lib" "$dest/bin"

# Headers.
cp -r /usr/include/absl /usr/include/nlohmann /usr/include/crcutil "$dest/include/"
cp -r /usr/include/google/protobuf "$dest/include/google/"
cp /usr/include/sentencepiece_processor.h /usr/include/sentencepiece_trainer.h \
  /usr/include/pcre2.h /usr/include/zlib.h /usr/include/zconf.h "$dest/include/"
cp "$arch_lib"/openmpi/include/mpi.h "$arch_lib"/openmpi/include/mpi-ext.h \
  "$arch_lib"/openmpi/include/mpi_portable_platform.h "$dest/include/"

# Each library once, under the name the loader asks for (its soname, e.g.
# libprotobuf.so.32); the builds link them by that name (-l:NAME), so the
# bundle needs no symbolic links, which not every way of copying it keeps.
copy_library() {  # copy_library PATTERN...: the matching libraries
  for pattern in "$@"; do
    for file in "$arch_lib"/$pattern; do
      [ -e "$file" ] || continue
      soname=$(objdump -p "$file" | awk '$1 == "SONAME" {print $2}')
      [ -n "$soname" ] && [ ! -e "$dest/lib/$soname" ] && cp -L "$file" "$dest/lib/$soname"
    done
  done
  return 0
}
copy_library 'libabsl_*.so' 'libprotobuf.so' 'libprotoc.so.*' \
  'libsentencepiece.so' 'libsentencepiece_train.so' 'libcrcutil.so' \
  'libpcre2-8.so' 'libz.so' 'libmpi.so.40' 'libopen-pal.so.40' \
  'libopen-rte.so.40' 'libhwloc.so.15' 'libevent_core-2.1.so.7' \
  'libevent_pthreads-2.1.so.7' 'libudev.so.1' 'libnuma.so.1' \
  'libmunge.so.2' 'libmca_common_sm.so.40' 'libmca_common_monitoring.so.50' \
  'libmca_common_ompio.so.41' pmix2/lib/libpmix.so.2

cp /usr/bin/protoc "$dest/bin/"
cat > "$dest/bin/protoc.sh" <<'INNER'
#!/bin/sh
here=$(dirname "$0")
LD_LIBRARY_PATH="$here/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/protoc" "$@"
INNER

# Open MPI in its install layout under DIR/openmpi (prefix /usr in Debian's
# build: bindir, pkglibdir and pkgdatadir keep their places below it).
mpi=$dest/openmpi
plugins=$mpi/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
mkdir -p "$mpi/bin" "$plugins" "$mpi/share"
cp /usr/bin/orterun /usr/bin/orted "$mpi/bin/"
cp -r /usr/share/openmpi "$mpi/share/"
# PMIx (Open MPI's process manager interface) has its own plugins and help
# texts.
pmix=$mpi/lib/x86_64-linux-gnu/pmix2
mkdir -p "$pmix/share" "$pmix/lib"
cp -r "$arch_lib"/pmix2/share/pmix "$pmix/share/"
cp -r "$arch_lib"/pmix2/lib/pmix "$pmix/lib/"
# A plugin travels when every library it loads is glibc's, the C++
# runtime's or in DIR/lib.
system_library='^(linux-vdso|ld-linux|libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+)\.'
kept=0
for plugin in "$arch_lib"/openmpi/lib/openmpi3/*.so; do
  missing=$(ldd "$plugin" | awk '{print $1}' | { grep -v -E "$system_library|^/" || true; } |
    while read -r needed; do [ -e "$dest/lib/$needed" ] || echo "$needed"; done)
  if [ -z "$missing" ]; then cp "$plugin" "$plugins/"; kept=$((kept + 1)); fi
done

cat > "$dest/bin/mpirun" <<'INNER'
#!/bin/sh
# Open MPI's mpirun from this bundle: its prefix, its libraries (also for the
# ranks it starts, which inherit this environment) and no fabric plugins.
here=$(cd "$(dirname "$0")/.." && pwd)
export OPAL_PREFIX="$here/openmpi"
# PMIx does not follow OPAL_PREFIX; its plugins are named outright.
export PMIX_MCA_mca_base_component_path="$here/openmpi/lib/x86_64-linux-gnu/pmix2/lib/pmix"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/openmpi/bin/orterun" "$@"
INNER
chmod +x "$dest/bin/protoc.sh" "$dest/bin/mpirun"
# Complete: everything in the bundle loads with the bundle's libraries and
# the base system's (glibc, the C++ runtime) only.
base='^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|librt\.so\.1|libpthread\.so\.0|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'
outside=$(for file in "$dest"/lib/* "$mpi"/bin/* "$plugins"/*.so "$pmix"/lib/pmix/*.so "$dest/bin/protoc"; do
  LD_LIBRARY_PATH="$dest/lib" ldd "$file" 2>/dev/null |
    awk -v dest="$dest" 'index($3, dest) != 1 && $1 != "statically" {print $1}'
done | sort -u | { grep -v -E "$base" || true; })
if [ -n "$outside" ]; then
  echo "gpu_bundle: these libraries are needed but not in the bundle: $outside" >&2
  exit 1
fi
echo "gpu_bundle: $kept of $(ls "$arch_lib"/openmpi/lib/openmpi3/*.so | wc -l) Open MPI plugins kept"
du -sh "$dest"
