# Runtime hook: runs in every process of the bundle (the app and each spawned worker) before
# the entry script; the decisions are in hydrotwin/app/frozen.py.
from hydrotwin.app.frozen import configure

configure()
