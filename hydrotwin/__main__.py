"""``python -m hydrotwin`` is the ``hydrotwin`` command."""

import sys

from hydrotwin.app.cli import main

sys.exit(main())
