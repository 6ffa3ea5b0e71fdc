"""How HydroTwin behaves inside the PyInstaller bundle (``packaging/``), decided in one place.

A frozen app cannot write into its own folder (it may be read-only, e.g. under ``/opt``), has
no ``python`` to start scripts with, and finds its Chinese font inside the bundle, not on the
system. :func:`configure` runs from the bundle's runtime hook in every process (the
app and each spawned worker) before anything else is imported; outside a bundle it does
nothing. Nothing here imports Qt, numba or GDAL at module level.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FONT_NAME = "wqy-microhei.ttc"  # fonts-wqy-microhei (Apache-2.0 / GPLv3), copied at build time
NUMBA_CACHING = "numba.core.caching"


def bundle_dir() -> Path | None:
    """The unpacked bundle's data folder (``_internal``), or None when not frozen."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))


def frozen_environment(bundle: Path, cache: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment variables the bundle sets unless the user already set them.

    numba's cache goes to the user cache folder (the bundle is read-only); the Chinese font
    is the bundle's own, so a machine without one still labels in Chinese. GDAL and PROJ data
    are deliberately not set: rasterio, pyogrio and pyproj each carry their own GDAL/PROJ
    build and find their own data beside their package (a global ``PROJ_DATA`` pointing at
    pyproj's ``proj.db`` makes rasterio's older PROJ refuse every EPSG code).
    """
    wanted = {
        "NUMBA_CACHE_DIR": str(cache / "numba"),
        "HYDROTWIN_CJK_FONT": str(bundle / "fonts" / FONT_NAME),
    }
    present = {k: v for k, v in wanted.items() if k == "NUMBA_CACHE_DIR" or Path(v).exists()}
    return {k: v for k, v in present.items() if not environ.get(k)}


def configure() -> None:
    """Set the bundle's environment and let numba cache the bundle's functions."""
    bundle = bundle_dir()
    if bundle is None:
        return
    from platformdirs import user_cache_dir

    cache = Path(user_cache_dir("hydrotwin", appauthor=False))
    os.environ.update(frozen_environment(bundle, cache, os.environ))
    if not any(isinstance(f, _PatchNumbaCaching) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchNumbaCaching(bundle))


def add_bundled_fonts() -> None:
    """Give Qt the bundle's Chinese font (a machine may have none); call after QApplication."""
    bundle = bundle_dir()
    font = bundle / "fonts" / FONT_NAME if bundle is not None else None
    if font is not None and font.is_file():
        from PySide6.QtGui import QFontDatabase

        QFontDatabase.addApplicationFont(str(font))


def bundle_locator(bundle: Path, caching: Any) -> Any:
    """A numba cache locator for code compiled into the bundle.

    PyInstaller stores each module's file name relative to the bundle
    (``hydrotwin/solver/muskingum.py``) and ships no source, so numba's own locators find no
    file and ``cache=True`` functions would fail to compile. This one resolves the name
    against the bundle and keeps the cache under ``$NUMBA_CACHE_DIR``. ``caching`` is
    ``numba.core.caching``, passed in while it is being imported. numba stamps a frozen
    app's cache with the executable, so a new bundle invalidates it.
    """

    class BundleCacheLocator(caching.UserProvidedCacheLocator):  # type: ignore[misc]
        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not caching.config.CACHE_DIR or os.path.isabs(py_file):
                return None
            self = cls(py_func, str(bundle / py_file))
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    return BundleCacheLocator


class _PatchNumbaCaching(importlib.abc.MetaPathFinder):
    """Adds :func:`bundle_locator` to numba when (and only if) numba's caching is imported,
    so commands that never use numba do not pay for importing it."""

    def __init__(self, bundle: Path) -> None:
        self.bundle = bundle

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != NUMBA_CACHING:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, self.bundle)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: Any, bundle: Path) -> None:
        self.inner, self.bundle = inner, bundle

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        impl = getattr(module, "CacheImpl", None) or module._CacheImpl  # numba < 0.61
        impl._locator_classes.insert(0, bundle_locator(self.bundle, module))
