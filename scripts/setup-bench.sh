#!/usr/bin/env bash
# What `npm run bench` compares against: Debian's PyTorch with OpenBLAS (the BLAS its users get from a normal
# install; Debian's default `libblas3` is the slow reference implementation).
set -euo pipefail
bash "$(dirname "$0")/apt-install-missing.sh" python3-torch python3-numpy libopenblas0-pthread
# libopenblas0-pthread registers itself as libblas.so.3 with a higher priority than the reference BLAS; say which
# one is active, since a torch linked to the reference BLAS is several times slower on dense layers.
update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep -E '^Value:' || true
