#!/usr/bin/env bash
# Debian packages the test suite needs: Jupyter (notebook execution), Fashion-MNIST, Chromium (live-view test).
# Runs apt-get only for what is missing, so it is cheap on a machine that already has them.
set -euo pipefail
pkgs=(jupyter-notebook python3-nbconvert python3-ipykernel jupyter-client jupyter-nbconvert python3-nbclient
      dataset-fashion-mnist chromium fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "[setup] installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
