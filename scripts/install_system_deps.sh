#!/usr/bin/env bash
# System packages the tests use: PoCL (an OpenCL driver for the CPU, so the GPU plugin's tests run
# without a GPU), the OpenCL ICD loader and headers, Oclgrind (an OpenCL simulator that finds
# races and out-of-bounds accesses) when the distribution has it, and headless Chromium with its
# driver (the d3viz graph page is tested in a real browser), and SLEEF (the C backend's optional
# vector math, config.cpu_c__vector_math='sleef').  Run as root it apt-installs what is
# missing and is silent when everything is there; otherwise it prints the command to run.
set -euo pipefail

want=(pocl-opencl-icd ocl-icd-libopencl1 ocl-icd-opencl-dev chromium chromium-driver libsleef-dev)
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not a Debian/Ubuntu system; for the OpenCL GPU tests install an OpenCL driver" \
       "(PoCL) and optionally Oclgrind with your package manager" >&2
  exit 0
fi

missing=()
for p in "${want[@]}"; do have_pkg "$p" || missing+=("$p"); done
oclgrind_missing=0
have_pkg oclgrind || oclgrind_missing=1

[ ${#missing[@]} -eq 0 ] && [ $oclgrind_missing -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  todo=("${missing[@]}")
  [ $oclgrind_missing -eq 1 ] && todo+=(oclgrind)
  echo "note: for the OpenCL GPU, browser and SLEEF tests run: sudo apt-get install ${todo[*]}" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
if [ $oclgrind_missing -eq 1 ] && apt-cache show oclgrind >/dev/null 2>&1; then
  missing+=(oclgrind)
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
