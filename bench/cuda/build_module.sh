#!/usr/bin/env bash
# Fallback used by check.sh: rebuild only the CUDA module with the nvcc of the machine it runs
# on (when the prebuilt sea-cuda.so does not load or finds no device there). Needs nvcc,
# cuBLAS and the repo's headers; links against the pack's libsea.so.
#   bench/cuda/build_module.sh PACK_DIR [ARCH]     (ARCH default 90)
set -euo pipefail
P=${1:?pack dir}
ARCH=${2:-90}
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
CUDA_ROOT=$(dirname "$(dirname "$NVCC")")
SRC=backends/cuda
OBJ=$(mktemp -d)
INC="-I$SRC -Iruntime -I."
pids=()
for f in "$SRC"/*.cu; do
    "$NVCC" -std=c++17 -O2 -Xcompiler=-fPIC,-fvisibility=hidden -D_GNU_SOURCE $INC \
        -gencode "arch=compute_$ARCH,code=sm_$ARCH" -c "$f" -o "$OBJ/$(basename "$f").o" &
    pids+=($!)
done
for f in "$SRC"/*.c; do
    cc -std=c17 -O2 -fPIC -fvisibility=hidden -D_GNU_SOURCE $INC -isystem "$CUDA_ROOT/include" -c "$f" \
        -o "$OBJ/$(basename "$f").o" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mkdir -p "$P/backends/cuda"
"$NVCC" -shared -o "$P/backends/cuda/sea-cuda.so" "$OBJ"/*.o -L"$P" -lsea -L"$CUDA_ROOT/lib64" -lcublas -lcublasLt -ldl -lpthread \
    -Xlinker -rpath -Xlinker "$CUDA_ROOT/lib64" -Xlinker -rpath -Xlinker '$ORIGIN/../..'
rm -rf "$OBJ"
echo "build_module: rebuilt $P/backends/cuda/sea-cuda.so for sm_$ARCH with $("$NVCC" --version | tail -1)"
