"""Shared fixtures: where the read-only test data lives, and the demo basin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()

# Off-screen VTK renders through EGL when no X display is needed (see anchors/rendering.md).
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def pytest_collection_modifyitems(config, items):
    """Run the tests that open Qt windows last (stable order otherwise): an off-screen (EGL)
    render taken after Qt GL windows were opened and closed in the same process came out
    blank now and then, which made pixel tests of the scene flaky."""

    items.sort(key=_uses_qt)


def _uses_qt(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return "qtbot" in names or "qapp" in names or item.get_closest_marker("gui") is not None


@pytest.fixture(autouse=True)
def _gc_on_gui_thread(request):
    """Qt tests collect cycles on the GUI thread only, as the app does (viewers/gc_guard.py):
    with Dask's loop or a live source's thread running, a collection there that frees a
    widget is a segfault in a later test. Each Qt test ends with a collection of its own."""
    if not _uses_qt(request.node):
        yield
        return
    import gc

    from hydrotwin.viewers.gc_guard import collect_on_gui_thread

    collect_on_gui_thread(request.getfixturevalue("qapp"))
    yield
    gc.collect()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (read-only: never write into it)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"test data folder {SHARED_DATA} is missing (CI puts shared/ beside the repo)")
    return SHARED_DATA


DEMO_BROKEN = (
    "the demo basin plugin is broken or not installed: {exc}\n"
    "(make install runs pip install -e plugins/demo_basin; its data is generated on first use)"
)


@pytest.fixture(scope="session")
def demo_basin():
    """The demo basin, found through the public plugin path (entry point), data prepared.

    The demo basin ships with the repository, so a test that needs it fails (never skips)
    when it cannot be loaded: a broken plugin must not turn the demo tests green."""
    from hydrotwin.basin import find_basin
    from hydrotwin.errors import HydroTwinError

    try:
        return find_basin("demo")
    except HydroTwinError as exc:
        pytest.fail(DEMO_BROKEN.format(exc=exc), pytrace=False)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep tests out of the real user folders (plugin dir, caches, settings)."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("HYDROTWIN_BASIN_DIR", str(base / "user_basins"))
    monkeypatch.setenv("HYDROTWIN_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("HYDROTWIN_SETTINGS_DIR", str(base / "settings"))
