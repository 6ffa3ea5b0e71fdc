"""Entry point of the frozen ``hydrotwin`` executable (PyInstaller runs this as ``__main__``).

``freeze_support`` comes first: a spawned worker process (forecasts, 2D rehearsals) is this
same executable started again, and it must run the worker, not the command line.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from hydrotwin.app.cli import main

    sys.exit(main())
