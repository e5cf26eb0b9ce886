#!/usr/bin/env bash
# Debian packages the test suite needs: Jupyter (notebook execution), Fashion-MNIST, Chromium (live-view test).
set -euo pipefail
bash "$(dirname "$0")/apt-install-missing.sh" jupyter-notebook python3-nbconvert python3-ipykernel jupyter-client \
  jupyter-nbconvert python3-nbclient dataset-fashion-mnist chromium fonts-dejavu-core
