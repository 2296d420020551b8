"""Publish configs to the Hugging Face Hub: the same as `moving-mnist publish`.

    python scripts/publish.py --repo-id ORG/NAME classic [notebook ...] [--set key=value ...]
        [--private] [--max-shard-size 500MB] [--stage DIR] [--dry-run]
"""

import sys

from moving_mnist_cli import main

if __name__ == "__main__":
    sys.exit(main(["publish", *sys.argv[1:]]))
