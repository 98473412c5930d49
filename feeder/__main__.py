"""``python -m feeder``: the same as the ``feeder`` console script."""

import sys

from feeder.cli import main

sys.exit(main())
