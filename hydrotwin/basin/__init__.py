"""The domain model and the basin plugin API (manifest, discovery, hooks), plus readers of
DEMs, river networks and IFC models into arrays. Imports no Qt and no VTK."""

from hydrotwin.basin.discovery import BasinEntry, discover, find_basin
from hydrotwin.basin.manifest import Basin, load_manifest, parse_manifest

__all__ = ["Basin", "BasinEntry", "discover", "find_basin", "load_manifest", "parse_manifest"]
