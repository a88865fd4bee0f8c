"""``python -m linnet``: see :mod:`linnet.cli`."""

import sys

from linnet.cli import main

sys.exit(main())
