#!/bin/bash
# Packs the OpenCL backend's checks into a self-contained folder that runs on another Linux
# machine with a GPU but without this project's build dependencies: the binaries, every
# shared library they need (glibc's loader included) and run.sh, which starts each program
# through the bundled loader. Only the GPU's OpenCL driver (ICD) comes from that machine.
#
#   meson setup build-ocl-dev -Dopenblas=disabled -Dvulkan=disabled -Dcuda=disabled
#   backends/opencl/scripts/device_bundle.sh build-ocl-dev build-ocl-bundle
#   (copy build-ocl-bundle and tests/models/fixtures next to each other) ; build-ocl-bundle/run.sh
set -euo pipefail
BUILD=${1:?build dir}
B=${2:?bundle dir}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
ninja -C "$BUILD" sea backends/opencl/sea-opencl.so backends/opencl/tests/test_opencl_ops \
    backends/opencl/tests/ocl_matmul_rate tests/ops/test_ops tests/models/test_model
rm -rf "$B"
mkdir -p "$B/lib" "$B/bin" "$B/module"
BINS=("$BUILD/sea" "$BUILD/backends/opencl/tests/test_opencl_ops" "$BUILD/backends/opencl/tests/ocl_matmul_rate"
      "$BUILD/tests/ops/test_ops" "$BUILD/tests/models/test_model")
cp "${BINS[@]}" "$B/bin/"
cp "$BUILD/backends/opencl/sea-opencl.so" "$B/module/"
for f in $(ldd "${BINS[@]}" "$BUILD/backends/opencl/sea-opencl.so" | awk '/=>/ {print $3}' | sort -u); do
    cp -L "$f" "$B/lib/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$B/lib/"
cat > "$B/run.sh" <<'RUN'
#!/bin/bash
# Runs every OpenCL check on opencl:0 (DEVICE to override); logs go to $OUT (default /tmp/ocl_out).
B=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/ocl_out}
DEVICE=${DEVICE:-opencl:0}
FIXTURES=${FIXTURES:-$B/../tests/models/fixtures/models}
mkdir -p "$OUT"
L=$B/lib
HOSTLIB=/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:/usr/lib64:/usr/local/nvidia/lib64:/usr/lib/nvidia
RUN=("$L/ld-linux-x86-64.so.2" --library-path "$L:$HOSTLIB")
export SEA_BACKEND_PATH=$B/module
# The ICD loader reads /etc/OpenCL/vendors; NVIDIA containers often ship the driver library
# without an .icd file, so point the loader at it explicitly when it exists.
NV=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libnvidia-opencl.so.1' | head -1 || true)
if [ -n "$NV" ] && [ -z "${OCL_ICD_VENDORS:-}" ]; then
    mkdir -p "$OUT/vendors"
    echo "$NV" > "$OUT/vendors/nvidia.icd"
    export OCL_ICD_VENDORS=$OUT/vendors
fi
echo "== devices"; timeout 60 "${RUN[@]}" "$B/bin/sea" devices 2>&1 | tee "$OUT/devices.txt" | tail -8
echo "== test_opencl_ops"; timeout 300 "${RUN[@]}" "$B/bin/test_opencl_ops" "$DEVICE" > "$OUT/test_opencl_ops.txt" 2>&1
echo "rc=$?"; grep -E "FAIL|checks" "$OUT/test_opencl_ops.txt" | tail -15
echo "== op suite"; timeout 300 "${RUN[@]}" "$B/bin/test_ops" "$DEVICE" > "$OUT/test_ops.txt" 2>&1
echo "rc=$?"; awk '$NF!="ok"' "$OUT/test_ops.txt" | tail -15
echo "== matmul rate"; timeout 120 "${RUN[@]}" "$B/bin/ocl_matmul_rate" "$DEVICE" ${SIZES:-512 1024 2048 4096} 2>&1 | tee "$OUT/matmul_rate.txt"
echo "== model golden"; timeout 200 "${RUN[@]}" "$B/bin/test_model" "$DEVICE" "$FIXTURES" > "$OUT/test_model.txt" 2>&1
echo "rc=$?"; tail -2 "$OUT/test_model.txt"
echo "== bench ops"; timeout 120 "${RUN[@]}" "$B/bin/sea" bench --only-ops --quick --device "$DEVICE" 2>&1 | tee "$OUT/bench_ops.txt" | tail -13
RUN
chmod +x "$B/run.sh"
du -sh "$B"
