"""The one exception hierarchy: every error says what, where, the value and what was expected."""

from __future__ import annotations


class HydroTwinError(Exception):
    """Root of every error HydroTwin raises on purpose."""


class ManifestError(HydroTwinError):
    """A basin manifest (basin.toml) is missing, unreadable or invalid."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {message}")


class BasinDataError(HydroTwinError):
    """A data file a basin names (DEM, river network, curve, storm) is missing or invalid."""


class IfcLoadError(HydroTwinError):
    """An IFC file cannot be opened, parsed or tessellated."""


class FrameError(HydroTwinError):
    """An SL 651 frame is malformed: bad start, length, CRC, element or encoding."""


class StoreError(HydroTwinError):
    """The observation store cannot be opened or written."""


class StoreDamagedError(StoreError):
    """The store's file is damaged (corrupt page, not a database, I/O error, disk full):
    writing to it would acknowledge data that may not be readable back."""


class SolverError(HydroTwinError):
    """A solver received inputs it cannot work with (shapes, ranges, topology)."""


class SolverStabilityError(SolverError):
    """A simulation became unstable (NaN, negative depth, runaway step)."""


class ParameterError(SolverError):
    """A model parameter is outside its published range."""


class InputDataError(HydroTwinError):
    """Forcing or observation data is invalid (NaN, negative rain, gaps, unknown station)."""


class RunCancelledError(HydroTwinError):
    """A long run (rehearsals of several plans) was cancelled; its unfinished work is discarded."""
