"""``python -m celldino_utils.embed`` (e.g. under torchrun) is ``celldino embed``."""

import sys

from celldino_utils.embed.command import main

sys.exit(main())
