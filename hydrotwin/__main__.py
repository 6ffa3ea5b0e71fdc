"""``python -m hydrotwin`` is the ``hydrotwin`` command."""

import sys

from hydrotwin.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
