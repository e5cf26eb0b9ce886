#!/usr/bin/env bash
# What `npm run bench` compares against: Debian's PyTorch with OpenBLAS (the BLAS its users get from a normal
# install; Debian's default `libblas3` is the slow reference implementation). Installs only what is missing.
set -euo pipefail
pkgs=(python3-torch python3-numpy libopenblas0-pthread)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[setup-bench] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# libopenblas0-pthread registers itself as libblas.so.3 with a higher priority than the reference BLAS; say which
# one is active, since a torch linked to the reference BLAS is several times slower on dense layers.
update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -E '^Value:' || true
