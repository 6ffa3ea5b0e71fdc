"""Finding basins: entry points, the user plugin folder, and explicit paths.

An installed plugin declares ``[project.entry-points."hydrotwin.basins"] NAME = "pkg:basin.toml"``.
The value names a resource file inside the package, so listing basins reads only manifests and
imports no plugin code (as napari's npe2 does). A folder holding ``basin.toml`` in the user plugin
directory (``platformdirs.user_data_dir('hydrotwin') / 'basins'``) is found too.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from hydrotwin.basin.manifest import Basin, load_manifest
from hydrotwin.errors import HydroTwinError, ManifestError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hydrotwin.basins"
USER_DIR_ENV = "HYDROTWIN_BASIN_DIR"


@dataclass
class BasinEntry:
    """One basin as listed: valid (``basin`` set) or broken (``error`` set)."""

    name: str
    manifest: Path | None
    source: str  # "entry point <dist>", "user folder", "path"
    basin: Basin | None = None
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.basin is not None


def user_basin_dir() -> Path:
    """Folder scanned for user basins; ``$HYDROTWIN_BASIN_DIR`` overrides platformdirs."""
    env = os.environ.get(USER_DIR_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("hydrotwin", appauthor=False)) / "basins"


def _resource_path(value: str) -> Path:
    """Resolve ``package:relative/file`` to a path without importing the package."""
    if ":" not in value:
        raise ManifestError(value, "", "entry point value must be 'package:basin.toml'")
    pkg, rel = value.split(":", 1)
    spec = importlib.util.find_spec(pkg.split(".")[0])
    if spec is None or not spec.submodule_search_locations:
        raise ManifestError(value, "", f"package {pkg!r} is not installed")
    base = Path(next(iter(spec.submodule_search_locations)))
    for part in pkg.split(".")[1:]:
        base = base / part
    return base / rel


def _load(name: str, path: Path, source: str) -> BasinEntry:
    try:
        basin = load_manifest(path)
    except HydroTwinError as exc:
        log.warning("basin %s is broken: %s", name, exc)
        return BasinEntry(name=name, manifest=path, source=source, error=str(exc))
    return BasinEntry(name=basin.id, manifest=basin.manifest_path, source=source, basin=basin)


def discover(
    extra_paths: list[str | Path] | None = None, *, user_dir: Path | None = None
) -> list[BasinEntry]:
    """All basins: installed plugins, the user folder, then ``extra_paths``. Never raises."""
    found: list[BasinEntry] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist is not None else "?"
        try:
            path = _resource_path(ep.value)
        except HydroTwinError as exc:
            found.append(BasinEntry(ep.name, None, f"entry point {dist}", error=str(exc)))
            continue
        found.append(_load(ep.name, path, f"entry point {dist}"))
    udir = user_dir if user_dir is not None else user_basin_dir()
    if udir.is_dir():
        for sub in sorted(udir.iterdir()):
            if (sub / "basin.toml").is_file():
                found.append(_load(sub.name, sub / "basin.toml", "user folder"))
    for p in extra_paths or []:
        found.append(_load(Path(p).stem, Path(p), "path"))
    return found


def find_basin(name_or_path: str | Path, *, user_dir: Path | None = None) -> Basin:
    """A basin by id (installed or user folder) or by a path to ``basin.toml`` or its folder.

    Runs the manifest's ``prepare`` hook (which may generate data) before returning.
    """
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.is_dir() or os.sep in str(name_or_path):
        basin = load_manifest(p)
    else:
        entries = discover(user_dir=user_dir)
        matches = [e for e in entries if e.name == str(name_or_path)]
        if not matches:
            known = sorted(e.name for e in entries)
            raise ManifestError(str(name_or_path), "", f"no basin with this id; known: {known}")
        entry = matches[0]
        if entry.basin is None:
            raise ManifestError(str(entry.manifest), "", entry.error or "broken")
        basin = entry.basin
    prepare_basin(basin)
    return basin


def prepare_basin(basin: Basin) -> None:
    """Call the manifest's ``prepare = "module:function"`` hook, if any (idempotent by contract)."""
    target = basin.basin.prepare
    if not target:
        return
    import importlib

    mod_name, func_name = target.split(":")
    try:
        func = getattr(importlib.import_module(mod_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ManifestError(
            str(basin.manifest_path), "basin.prepare", f"cannot load {target!r}: {exc}"
        ) from None
    func(basin.root)
