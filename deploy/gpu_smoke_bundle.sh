#!/bin/bash
# Packs this Debian machine's protobuf (protoc, headers, library) and abseil
# (headers, libraries) into one folder, for deploy/gpu_smoke.sh on a GPU
# machine that has a CUDA LibTorch but not these:
#
#   deploy/gpu_smoke_bundle.sh DIR        # here (about 25 MB)
#   DEPS_PREFIX=DIR deploy/gpu_smoke.sh   # there (x86-64, glibc >= 2.36)
set -euo pipefail
dest=${1:?usage: $0 DIR}
lib=/usr/lib/x86_64-linux-gnu
mkdir -p "$dest/include/google" "$dest/lib" "$dest/bin"
cp -r /usr/include/absl "$dest/include/"
cp -r /usr/include/google/protobuf "$dest/include/google/"
cp /usr/bin/protoc "$dest/bin/"
# Real files under every name the linker and the loader ask for.
for pattern in 'libabsl_*.so*' 'libprotobuf.so*' 'libprotoc.so*'; do
  find "$lib" -maxdepth 1 -name "$pattern" -exec cp -L {} "$dest/lib/" \;
done
# protoc finds its libraries next to it.
cat > "$dest/bin/protoc.sh" <<'INNER'
#!/bin/sh
here=$(dirname "$0")
LD_LIBRARY_PATH="$here/../lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/protoc" "$@"
INNER
chmod +x "$dest/bin/protoc.sh"
du -sh "$dest"
