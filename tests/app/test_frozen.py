"""The bundle's frozen behaviour (hydrotwin/app/frozen.py), checked without building it.

The last test plays a PyInstaller process for real: a subprocess with ``sys.frozen`` and
``sys._MEIPASS`` set, a module compiled with a bundle-relative file name (as PyInstaller
stores it) holding a ``cache=True`` numba function. The whole bundle is checked by
``make bundle-test`` (packaging/smoke.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hydrotwin.app import frozen


def _bundle(tmp_path: Path) -> Path:
    b = tmp_path / "_internal"
    (b / "fonts").mkdir(parents=True)
    (b / "fonts" / frozen.FONT_NAME).write_bytes(b"ttc")
    return b


def test_environment_points_into_the_bundle_and_the_user_cache(tmp_path):
    b = _bundle(tmp_path)
    env = frozen.frozen_environment(b, tmp_path / "cache", {})
    assert env == {
        "NUMBA_CACHE_DIR": str(tmp_path / "cache" / "numba"),
        "HYDROTWIN_CJK_FONT": str(b / "fonts" / frozen.FONT_NAME),
    }  # no GDAL_DATA / PROJ_DATA: each library finds its own (see frozen_environment)


def test_a_bundle_without_the_font_does_not_point_at_it(tmp_path):
    b = _bundle(tmp_path)
    (b / "fonts" / frozen.FONT_NAME).unlink()
    assert sorted(frozen.frozen_environment(b, tmp_path / "cache", {})) == ["NUMBA_CACHE_DIR"]


def test_the_users_own_settings_win(tmp_path):
    b = _bundle(tmp_path)
    mine = {"NUMBA_CACHE_DIR": "/elsewhere", "HYDROTWIN_CJK_FONT": "/my/font.ttc"}
    env = frozen.frozen_environment(b, tmp_path / "cache", mine)
    assert env == {}


def test_outside_a_bundle_nothing_changes(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    before = dict(os.environ)
    finders = list(sys.meta_path)
    frozen.configure()
    assert frozen.bundle_dir() is None
    assert dict(os.environ) == before and sys.meta_path == finders


CHILD = r"""
import os
import sys
from pathlib import Path
bundle = Path(sys.argv[1])
sys.frozen, sys._MEIPASS = True, str(bundle)
from hydrotwin.app import frozen
frozen.configure()
assert "numba" not in sys.modules, "configure() must not import numba"
print("cache", os.environ["NUMBA_CACHE_DIR"])
# a module as PyInstaller stores it: code whose file name is relative to the bundle
src = (bundle / "pkg" / "kernels.py").read_text()
code = compile(src, os.path.join("pkg", "kernels.py"), "exec")
import types
mod = sys.modules["kernels"] = types.ModuleType("kernels")
exec(code, mod.__dict__)
print("result", mod.twice(21.0))
from numba.core import caching
print("locator", caching.CacheImpl._locator_classes[0].__name__)
"""

KERNEL = "import numba\n\n@numba.njit(cache=True)\ndef twice(x):\n    return 2.0 * x\n"


def _run_child(bundle: Path, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(XDG_CACHE_HOME=str(home / ".cache"), HOME=str(home))
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(bundle)], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_numba_caches_bundle_code_in_the_user_cache(tmp_path):
    bundle = _bundle(tmp_path)
    (bundle / "pkg").mkdir()
    (bundle / "pkg" / "kernels.py").write_text(KERNEL)
    home = tmp_path / "home"
    out = _run_child(bundle, home)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["result"] == "42.0"
    assert lines["locator"] == "BundleCacheLocator"
    cache = Path(lines["cache"])
    assert cache == home / ".cache" / "hydrotwin" / "numba"
    cached = sorted(p.suffix for p in cache.rglob("kernels.twice-*"))
    assert cached == [".nbc", ".nbi"], sorted(cache.rglob("*"))
    assert not list(bundle.rglob("__pycache__")), "nothing may be written into the bundle"
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.rglob("kernels.twice-*")}
    again = _run_child(bundle, home)  # the second process loads the cache, writes nothing
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p.name: p.stat().st_mtime_ns for p in cache.rglob("kernels.twice-*")} == stamps


def test_no_module_imports_the_vtk_shim():
    """``import vtk`` loads all ~180 VTK modules; the bundle leaves that shim out (spec
    EXCLUDES), so a module importing it would fail only in the bundle. Import from
    ``vtkmodules.<module>`` instead."""
    import ast

    root = Path(frozen.__file__).resolve().parents[1]
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(n == "vtk" or n.startswith("vtk.") for n in names):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert offenders == []
