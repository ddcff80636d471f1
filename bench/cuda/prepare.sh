#!/usr/bin/env bash
# Prepare everything the one-shot GPU check needs, HERE (a machine with nvcc and the dev
# packages, no GPU needed), into build-gpu-pack/ (git-ignored): the lead carries that one
# folder to the GPU machine and runs bench/cuda/check.sh there. Nothing is compiled there
# unless the prebuilt CUDA module fails to load (then check.sh rebuilds just the module).
#
#   bench/cuda/prepare.sh            # from the repo root; prints the size and the carry list
#
# The pack keeps the build tree's relative layout (binaries find libsea.so through their
# $ORIGIN-relative RUNPATH, and libsea finds backends/cuda/sea-cuda.so next to itself), plus
# lib/ with the third-party shared libraries the GPU machine may lack (hwloc, cJSON, PCRE2,
# utf8proc, cairo and their dependencies; not glibc, libstdc++ or CUDA's own libraries), and
# peers/ (a copy of ../shared/peers, which does not travel).
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
B=build-gpu
P=build-gpu-pack
export PATH=/usr/local/cuda/bin:$PATH

if [ ! -f "$B/build.ninja" ]; then
    meson setup "$B" -Dcuda=enabled -Demulate_cuda=disabled -Dopencl=disabled -Dvulkan=disabled -Dopenblas=disabled -Dmpi=disabled \
        --buildtype=release
fi
# nvcc writes no dependency file under this meson (1.0); backends/cuda/meson.build's wrappers
# make header changes recompile the kernels, but a pack that mixed old and new struct layouts
# once failed on the GPU, and a build folder made before the wrappers lacks them: recompile
# every .cu object each time.
rm -f "$B"/backends/cuda/sea-cuda.so.p/*.cu.o
ninja -C "$B"

rm -rf "$P"
mkdir -p "$P/lib"
# Everything runnable that check.sh may use, at the same relative paths.
files=(sea libsea.so backends/cuda/sea-cuda.so
       backends/cuda/tests/cuda_module_load backends/cuda/tests/cuda_vs_cpu backends/cuda/tests/cuda_philox_host
       backends/cuda/tests/sea-cuda-bench tests/ops/test_ops tests/models/test_model tests/models/test_model_bf16
       tests/models/test_model_load tests/models/test_model_memory
       tests/models/test_generate_graphs tests/runtime/test_graph
       tools/bench_models)
for f in "${files[@]}"; do
    if [ -f "$B/$f" ]; then
        mkdir -p "$P/$(dirname "$f")"
        cp -a "$B/$f" "$P/$f"
    else
        echo "prepare: note: $B/$f not built (skipped)"
    fi
done
# libsea and its modules may also be looked up as libsea.so.* (soname links).
for f in "$B"/libsea.so.[0-9]*; do [ -e "$f" ] && cp -a "$f" "$P/"; done

# Third-party libraries: everything ldd resolves outside glibc/libstdc++/CUDA.
skip='/(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|ld-linux-x86-64|libresolv|libutil)\.so|libcublas|libcudart|libcuda\.so|libnvidia|/libsea\.so|linux-vdso'
find "$P" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
    xargs -0 -n1 ldd 2>/dev/null | awk '/=> \//{print $3}' | sort -u | grep -Ev "$skip" |
    while read -r lib; do cp -L "$lib" "$P/lib/"; done
strip --strip-unneeded "$P"/lib/*.so* 2>/dev/null || true
find "$P" -type f -perm -u+x ! -path "$P/lib/*" -exec strip --strip-unneeded {} + 2>/dev/null || true

if [ -d ../shared/peers ]; then cp -r ../shared/peers "$P/peers"; fi
git rev-parse HEAD > "$P/COMMIT" 2>/dev/null || echo "no commit" > "$P/COMMIT"
date -u +%FT%TZ > "$P/PREPARED"

echo "prepare: pack $P: $(du -sh "$P" | cut -f1) (carry limit 64 MiB with the working tree)"
echo "prepare: working tree (tracked + untracked, not ignored): $(git ls-files -co --exclude-standard -z | du -ch --files0-from=- 2>/dev/null | tail -1 | cut -f1)"
echo "prepare: libs bundled: $(ls "$P/lib" | tr '\n' ' ')"
echo "prepare: run on the GPU machine with carry [\"$P\"]:  bash bench/cuda/check.sh"
