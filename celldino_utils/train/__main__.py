"""``python -m celldino_utils.train`` (and ``torchrun ... -m celldino_utils.train``)."""

import sys

from celldino_utils.train.command import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
