"""The canonical observation record every live source produces and the store consumes.

One observation is one value of one element at one station and one instant:
``Observation(station="12345678", time=<UTC datetime>, element="Z", value=10.49, unit="m")``.
Elements are named by their SL 651-2014 ASCII identifiers (Table C.1: ``Z`` river stage,
``ZU`` upstream/reservoir level, ``PJ`` current rain, ``DRP`` 5-minute rain, ``Q`` flow, ``GH``
gate opening, ``VT`` supply voltage …) whatever the source (SL 651, MQTT, replay), so that
the store, the warnings and the charts share one vocabulary. Values are in the unit given
(SI, with rain in mm); levels are in the station's gauge datum — see ``to_basin_datum``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from hydrotwin.errors import InputDataError
from hydrotwin.timeutil import parse_iso

#: Unit of each element the store and warnings know (SL 651-2014 Table C.1, standards.md §1.8).
ELEMENT_UNITS: dict[str, str] = {
    "Z": "m",
    "ZU": "m",
    "ZB": "m",
    "RZ": "m",
    "Q": "m3/s",
    "QA": "m3/s",
    "QZ": "m3/s",
    "INQ": "m3/s",
    "OTQ": "m3/s",
    "PJ": "mm",
    "PT": "mm",
    "PN01": "mm",
    "PN05": "mm",
    "PN10": "mm",
    "PN30": "mm",
    "P1": "mm",
    "P2": "mm",
    "P3": "mm",
    "P6": "mm",
    "P12": "mm",
    "PD": "mm",
    "PR": "mm",
    "DRP": "mm",
    "GH": "m",
    "GN": "1",
    "GT": "1",
    "VT": "V",
    "VA": "m/s",
    "VJ": "m/s",
}

#: Elements that are water levels (subject to per-station datum corrections).
LEVEL_ELEMENTS = frozenset({"Z", "ZU", "ZB", "RZ"} | {f"DRZ{i}" for i in range(1, 9)})

#: A station code in JSON: an SL 323 STCD (8 characters) or an SL 651 address (10 hex digits),
#: with room for a platform's own codes; anything longer or with other characters is refused.
STATION_CODE = re.compile(r"[0-9A-Za-z_-]{1,20}")


def element_unit(element: str) -> str | None:
    """The unit of a known element (``DRZ1``…``DRZ8`` are levels in m), None if unknown."""
    if element in ELEMENT_UNITS:
        return ELEMENT_UNITS[element]
    return "m" if element in LEVEL_ELEMENTS else None


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one element at one station and one UTC instant.

    ``station`` is the SL 323 station code (STCD); ``time`` must be timezone-aware (it is
    normalised to UTC); ``source`` says where it came from (``sl651``, ``mqtt``, ``replay``).
    """

    station: str
    time: datetime
    element: str
    value: float
    unit: str
    source: str = "sl651"

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise InputDataError(
                f"observation {self.station}/{self.element}: time {self.time.isoformat()} has no "
                "time zone; expected an aware datetime (UTC inside HydroTwin)"
            )
        if self.time.utcoffset() != UTC.utcoffset(None):
            object.__setattr__(self, "time", self.time.astimezone(UTC))
        if not isinstance(self.value, int | float) or not math.isfinite(self.value):
            raise InputDataError(
                f"observation {self.station}/{self.element} at {self.time.isoformat()}: value "
                f"{self.value!r} is not a finite number"
            )

    @property
    def key(self) -> tuple[str, datetime, str]:
        """Identity of an observation: a repeated (station, time, element) is the same one."""
        return (self.station, self.time, self.element)

    def to_json(self) -> dict[str, object]:
        """The documented JSON form (also the MQTT payload): ISO 8601 time with offset."""
        return {
            "station": self.station,
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "element": self.element,
            "value": self.value,
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, object], source: str = "mqtt") -> Observation:
        """Parse the JSON form; raise InputDataError naming the field that is wrong."""
        if not isinstance(data, dict):
            raise InputDataError(f"observation JSON must be an object; got {type(data).__name__}")
        missing = [k for k in ("station", "time", "element", "value") if k not in data]
        if missing:
            raise InputDataError(
                f"observation JSON {_clip(data)} lacks {missing}; expected station, time, element, "
                "value and unit"
            )
        station, element = data["station"], data["element"]
        if not isinstance(station, str) or not STATION_CODE.fullmatch(station):
            raise InputDataError(
                f"observation JSON: station {_clip(station)} is not a station code "
                f"(1–20 letters, digits, '_' or '-')"
            )
        expected_unit = element_unit(element) if isinstance(element, str) else None
        if not isinstance(element, str) or expected_unit is None:
            raise InputDataError(
                f"observation JSON {station}: element {_clip(element)} is not a known SL 651 "
                "identifier (Z, ZU, PJ, Q … see ELEMENT_UNITS)"
            )
        unit = data.get("unit", expected_unit)
        if unit != expected_unit:
            raise InputDataError(
                f"observation JSON {station}/{element}: unit {_clip(unit)}; "
                f"expected {expected_unit!r}"
            )
        time = _json_time(data["time"], f"{station}/{element}")
        value = data["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputDataError(
                f"observation JSON {station}/{element}: value {_clip(value)} is not a number"
            )
        try:
            number = float(value)
        except OverflowError:
            raise InputDataError(
                f"observation JSON {station}/{element}: value {_clip(value)} is too large"
            ) from None
        try:
            return cls(station, time, element, number, str(unit), source)
        except OverflowError:
            raise InputDataError(
                f"observation JSON {station}/{element}: time {time!r} cannot be expressed in UTC"
            ) from None


def _clip(value: object, n: int = 40) -> str:
    """A value for an error message, cut short (a hostile field may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= n else f"{text[:n]}… ({len(text)} characters)"


def _json_time(raw: object, what: str) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise InputDataError(
            f"observation JSON {what}: time {_clip(raw)} is not an ISO 8601 string"
        )
    try:
        return parse_iso(raw, naive_tz=None)
    except ValueError as exc:
        raise InputDataError(f"observation JSON {what}: time {exc}") from None


def to_basin_datum(obs: Observation, datum_offset_m: float) -> Observation:
    """A level in the station's gauge datum moved to the basin datum (offset = DTPR)."""
    if obs.element not in LEVEL_ELEMENTS or datum_offset_m == 0.0:
        return obs
    return Observation(
        obs.station, obs.time, obs.element, obs.value + datum_offset_m, obs.unit, obs.source
    )
