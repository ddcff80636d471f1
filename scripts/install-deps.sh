#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages sea needs, only those missing. Uses sudo when not root.
# On other systems it prints what to install and fails.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config
  libhwloc-dev libcjson-dev libpcre2-dev libutf8proc-dev libcmocka-dev libopenblas-dev libcairo2-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev
  libvulkan-dev mesa-vulkan-drivers glslc
  libopenmpi-dev openmpi-bin
)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "sea: this is not a Debian/Ubuntu system (no apt-get)." >&2
  echo "Install with your package manager: a C11 compiler, meson (>= 1.0.1), ninja, pkg-config, and the" >&2
  echo "development files of hwloc, cJSON, PCRE2, utf8proc, cmocka, OpenBLAS, cairo; optional: OpenCL ICD +" >&2
  echo "CLBlast (+ PoCL for tests), Vulkan loader + glslc (+ lavapipe for tests), Open MPI, CUDA toolkit." >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "sea: installing missing packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "sea: need root (or sudo) to run apt-get install ${missing[*]}" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
