"""``python -m celldino_utils`` is the ``celldino`` command."""

import sys

from celldino_utils.cli import main

sys.exit(main())
