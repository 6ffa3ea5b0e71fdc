"""SL 651-2014 (水文监测数据通信规约) codec: frames in HEX/BCD and ASCII encodings.

Decodes up-link frames from field stations (and down-link confirmations), encodes reports
(for the station-fleet simulator and tests) and replies (ACK/NAK/EOT/ESC). Frame layout,
function codes, element identifiers and the CRC rule follow ``shared/standards.md`` §1, which
cites the standard's transcription [SL651-md] and 45 real frames [frames]:

* HEX frame: ``7E7E`` · centre 1 B · station 5 B · password 2 B · function 1 B ·
  dir(4 bit)+length(12 bit) · STX/SYN · [packet total/seq 3 B] · body · end char · CRC 2 B
  (down-link: station before centre). The length counts the bytes after STX/SYN up to the
  end char, packet bytes included (checked on the 13 real 36H packets).
* CRC-16/MODBUS (init 0xFFFF, reflected poly 0xA001, no final XOR) over every byte before it,
  sent high byte first (standards.md §1.1; 43/45 real frames agree).
* Element identifier: guide byte + definition byte whose high 5 bits are the data length in
  bytes and low 3 bits the number of decimals; data are BCD, ``FF`` prefix = negative, all
  ``F`` = missing (SL 651-2014 §6.6.3, Table 26).

Every malformed input raises :class:`hydrotwin.errors.FrameError` with the reason; nothing
else escapes ``decode`` (a fuzz test holds it to that). Oddities real devices send are
accepted with a note in ``Frame.warnings`` (centre address 00, ENQ at the end of an
up-link frame, a body station address that differs from the header).
"""

from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hydrotwin.errors import FrameError
from hydrotwin.live.observation import Observation

log = logging.getLogger(__name__)

# Control characters (SL 651-2014 Table 4).
SOH, STX, ETX, EOT, ENQ, ACK, NAK, ETB, SYN, ESC = (
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x15,
    0x17,
    0x16,
    0x1B,
)
UP_END = frozenset({ETX, ETB})
DOWN_END = frozenset({ENQ, ACK, NAK, EOT, ESC})
CONTROL_NAMES = {
    SOH: "SOH", STX: "STX", ETX: "ETX", EOT: "EOT", ENQ: "ENQ",
    ACK: "ACK", NAK: "NAK", ETB: "ETB", SYN: "SYN", ESC: "ESC",
}  # fmt: skip

#: Function codes (SL 651-2014 Table B.1, standards.md §1.5).
FUNCTION_NAMES: dict[int, str] = {
    0x2F: "keep-alive", 0x30: "test report", 0x31: "uniform-interval report",
    0x32: "timed report", 0x33: "added report", 0x34: "hourly report",
    0x35: "manual entry", 0x36: "picture", 0x37: "real-time query answer",
    0x38: "period query answer", 0x39: "manual-entry query answer",
    0x3A: "given-elements query answer", 0x40: "write basic config", 0x41: "read basic config",
    0x42: "write run-time params", 0x43: "read run-time params", 0x44: "pump motor data",
    0x45: "software version", 0x46: "status and alarm", 0x47: "initialise storage",
    0x48: "factory reset", 0x49: "change password", 0x4A: "set clock", 0x4B: "IC card state",
    0x4C: "pump control", 0x4D: "valve control", 0x4E: "gate control",
    0x4F: "water-volume set-point", 0x50: "event records", 0x51: "read clock",
}  # fmt: skip

#: Function codes whose body carries observation element groups.
ELEMENT_FUNCTIONS = frozenset(
    {0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x44, 0x46}
)
#: ... of those, the ones whose F1F1 station address is followed by the station class code.
CLASS_FUNCTIONS = frozenset({0x30, 0x31, 0x32, 0x33, 0x34, 0x36, 0x37, 0x38, 0x3A, 0x44})
#: Function codes whose body carries configuration/parameter items (raw, not BCD elements).
PARAM_FUNCTIONS = frozenset({0x40, 0x41, 0x42, 0x43, 0x49})
#: Function codes the centre confirms (M2); 2F keep-alive is never answered (§6.3).
CONFIRMED_FUNCTIONS = frozenset(range(0x30, 0x52)) - {0x2F}

#: Station class codes (Table A.1): the byte is the ASCII letter.
STATION_CLASSES = {
    0x50: "P", 0x48: "H", 0x4B: "K", 0x5A: "Z", 0x44: "D", 0x54: "T",
    0x4D: "M", 0x47: "G", 0x51: "Q", 0x49: "I", 0x4F: "O",
}  # fmt: skip

# Element identifiers (SL 651-2014 Table C.1 as transcribed in [SL651-md]; flood-relevant ones
# double-checked in standards.md §1.8): guide byte -> (ASCII id, unit, digits D, decimals d).
# D and d are the standard N(D,d) format, used only when encoding; decoding trusts the
# definition byte each frame carries.
_E = [
    (0x01, "AC", "m2", 8, 2), (0x02, "AI", "degC", 3, 1), (0x03, "C", "degC", 3, 1),
    (0x05, "DT", "h", 4, 2), (0x06, "ED", "mm", 4, 1), (0x07, "EJ", "mm", 4, 1),
    (0x08, "FL", "hPa", 5, 0), (0x09, "GH", "m", 5, 2), (0x0A, "GN", "1", 3, 0),
    (0x0B, "GS", "1", 1, 0), (0x0C, "GT", "1", 3, 0), (0x0D, "GTP", "degC", 3, 1),
    (0x0E, "H", "m", 6, 2), (0x0F, "HW", "m", 5, 2),
    (0x10, "M10", "%", 4, 1), (0x11, "M20", "%", 4, 1), (0x12, "M30", "%", 4, 1),
    (0x13, "M40", "%", 4, 1), (0x14, "M50", "%", 4, 1), (0x15, "M60", "%", 4, 1),
    (0x16, "M80", "%", 4, 1), (0x17, "M100", "%", 4, 1), (0x18, "MST", "%", 4, 1),
    (0x19, "NS", "1", 2, 0), (0x1A, "P1", "mm", 5, 1), (0x1B, "P2", "mm", 5, 1),
    (0x1C, "P3", "mm", 5, 1), (0x1D, "P6", "mm", 5, 1), (0x1E, "P12", "mm", 5, 1),
    (0x1F, "PD", "mm", 5, 1), (0x20, "PJ", "mm", 5, 1), (0x21, "PN01", "mm", 5, 1),
    (0x22, "PN05", "mm", 5, 1), (0x23, "PN10", "mm", 5, 1), (0x24, "PN30", "mm", 5, 1),
    (0x25, "PR", "mm", 5, 1), (0x26, "PT", "mm", 6, 1), (0x27, "Q", "m3/s", 9, 3),
    (0x28, "Q1", "m3/s", 9, 3), (0x29, "Q2", "m3/s", 9, 3), (0x2A, "Q3", "m3/s", 9, 3),
    (0x2B, "Q4", "m3/s", 9, 3), (0x2C, "Q5", "m3/s", 9, 3), (0x2D, "Q6", "m3/s", 9, 3),
    (0x2E, "Q7", "m3/s", 9, 3), (0x2F, "Q8", "m3/s", 9, 3), (0x30, "QA", "m3/s", 9, 3),
    (0x31, "QZ", "m3/s", 9, 3), (0x32, "SW", "1e4 t", 11, 3), (0x33, "UC", "1", 2, 0),
    (0x34, "UE", "1", 2, 0), (0x35, "US", "m/s", 4, 1), (0x36, "VA", "m/s", 5, 3),
    (0x37, "VJ", "m/s", 5, 3), (0x38, "VT", "V", 4, 2), (0x39, "Z", "m", 7, 3),
    (0x3A, "ZB", "m", 7, 3), (0x3B, "ZU", "m", 7, 3),
    (0x3C, "Z1", "m", 7, 3), (0x3D, "Z2", "m", 7, 3), (0x3E, "Z3", "m", 7, 3),
    (0x3F, "Z4", "m", 7, 3), (0x40, "Z5", "m", 7, 3), (0x41, "Z6", "m", 7, 3),
    (0x42, "Z7", "m", 7, 3), (0x43, "Z8", "m", 7, 3), (0x44, "SQ", "kg/m3", 9, 3),
    (0x45, "ZT", "1", 8, 0), (0x46, "PH", "1", 4, 2), (0x47, "DO", "mg/L", 4, 1),
    (0x48, "COND", "uS/cm", 5, 0), (0x49, "TURB", "NTU", 3, 0), (0x4A, "CODMN", "mg/L", 4, 1),
    (0x4B, "REDOX", "mV", 5, 1), (0x4C, "NH4N", "mg/L", 6, 2), (0x4D, "TP", "mg/L", 5, 3),
    (0x4E, "TN", "mg/L", 5, 2), (0x4F, "TOC", "mg/L", 4, 2),
    (0x70, "VTA", "V", 4, 1), (0x71, "VTB", "V", 4, 1), (0x72, "VTC", "V", 4, 1),
    (0x73, "VIA", "A", 4, 1), (0x74, "VIB", "A", 4, 1), (0x75, "VIC", "A", 4, 1),
]  # fmt: skip
ELEMENTS: dict[int, tuple[str, str, int, int]] = {g: (i, u, d, dd) for g, i, u, d, dd in _E}
ELEMENT_BY_ID: dict[str, int] = {v[0]: k for k, v in ELEMENTS.items()}
_DRZ_GUIDES = {0xF5 + i: f"DRZ{i + 1}" for i in range(8)}
_DRZ_BY_ID = {v: k for k, v in _DRZ_GUIDES.items()}

#: Sentinels some devices send instead of "no sensor" (standards.md §1.4, hik_* frames).
LEVEL_SENTINELS = frozenset({9999.999, 9999.99, 99999.999})
#: Gate-opening special values (SL 651-2014 E.3.2.2): 444 fully closed -> 0 m; others no height.
GATE_SPECIAL = {444.0: 0.0, 555.0: None, 888.0: None, 999.0: None}


# -- CRC ----------------------------------------------------------------------------------------
def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc_table()


def _crc_pair_table() -> list[int]:
    # Two table steps with zero data, for every 16-bit register value: since the CRC is
    # linear, XOR-ing a little-endian byte pair into the register and looking up this table
    # advances it by two bytes (the usual "slicing" speed-up of a table CRC).
    t = _CRC_TABLE
    out = []
    for c in range(65536):
        c1 = (c >> 8) ^ t[c & 0xFF]
        out.append((c1 >> 8) ^ t[c1 & 0xFF])
    return out


_CRC_PAIRS: list[int] | None = None
_LITTLE = sys.byteorder == "little"


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (init 0xFFFF, reflected poly 0xA001, no final XOR); check 0x4B37."""
    global _CRC_PAIRS
    pairs = _CRC_PAIRS
    if pairs is None:
        pairs = _CRC_PAIRS = _crc_pair_table()
    n = len(data)
    words = array("H")
    words.frombytes(data[: n - (n & 1)])
    if not _LITTLE:
        words.byteswap()
    crc = 0xFFFF
    for w in words:
        crc = pairs[crc ^ w]
    if n & 1:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ data[-1]) & 0xFF]
    return crc


# -- data model ---------------------------------------------------------------------------------
@dataclass(slots=True)
class Element:
    """One decoded element: ASCII id, value (number, list of 5-minute values, text or bytes)."""

    ident: str
    code: int
    value: object
    unit: str
    time: datetime | None = None  # observation time TT in effect (station local time, naive)
    station: str | None = None  # station block (F1F1) in effect
    decimals: int = 0

    def to_dict(self) -> dict[str, object]:
        v = self.value
        if isinstance(v, bytes | bytearray):
            v = bytes(v).hex().upper()
        return {
            "id": self.ident,
            "value": v,
            "unit": self.unit,
            "time": self.time.isoformat(timespec="minutes") if self.time else None,
        }


@dataclass(slots=True)
class Frame:
    """A decoded SL 651 frame (header, and for complete messages the parsed body)."""

    encoding: str  # "hex" | "ascii"
    direction: str  # "up" | "down"
    centre: int
    station: str  # 10 hex digits, upper case
    password: str  # 4 hex digits, upper case
    function: int
    length: int
    start: int  # STX or SYN
    end: int
    crc: int
    body: bytes
    packet_total: int | None = None
    packet_seq: int | None = None
    serial: int | None = None
    send_time: datetime | None = None  # station local time, naive
    body_station: str | None = None
    station_class: str | None = None
    step_code: str | None = None  # 04 18 time-step code DDHHMM
    elements: list[Element] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    payload: bytes | None = None  # unparsed rest (version text, event records, ...)
    complete: bool = True  # False for one packet of a multi-packet message
    warnings: list[str] = field(default_factory=list)

    @property
    def function_name(self) -> str:
        return FUNCTION_NAMES.get(self.function, "reserved/user-defined")

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (what ``hydrotwin sl651 decode`` prints)."""
        out: dict[str, object] = {
            "encoding": self.encoding,
            "direction": self.direction,
            "centre": self.centre,
            "station": self.station,
            "password": self.password,
            "function": f"{self.function:02X}",
            "function_name": self.function_name,
            "length": self.length,
            "start": CONTROL_NAMES.get(self.start, f"{self.start:02X}"),
            "end": CONTROL_NAMES.get(self.end, f"{self.end:02X}"),
            "crc": f"{self.crc:04X}",
            "serial": self.serial,
            "send_time": self.send_time.isoformat() if self.send_time else None,
        }
        if self.packet_total is not None:
            out["packet_total"] = self.packet_total
            out["packet_seq"] = self.packet_seq
        if self.body_station is not None:
            out["body_station"] = self.body_station
        if self.station_class is not None:
            out["station_class"] = self.station_class
        if self.step_code is not None:
            out["step_code"] = self.step_code
        if self.elements:
            out["elements"] = [e.to_dict() for e in self.elements]
        if self.params:
            out["params"] = [{"id": k, "data": v} for k, v in self.params]
        if self.payload:
            out["payload"] = self.payload.hex().upper()
        out["complete"] = self.complete
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


# -- helpers ------------------------------------------------------------------------------------
def _bcd_time(b: bytes, what: str, seconds: bool) -> datetime:
    h = b.hex()
    if not h.isdigit():
        raise FrameError(
            f"{what} {h.upper()} is not BCD (expected YYMMDDHHmm{'SS' if seconds else ''})"
        )
    try:
        return datetime(
            2000 + int(h[0:2]),
            int(h[2:4]),
            int(h[4:6]),
            int(h[6:8]),
            int(h[8:10]),
            int(h[10:12]) if seconds else 0,
        )
    except ValueError as exc:
        raise FrameError(f"{what} {h.upper()} is not a valid date and time ({exc})") from None


def bcd_value(data: bytes, decimals: int, ident: str = "element") -> float | None:
    """BCD number with implied decimals; ``FF`` prefix = negative; all ``F`` = missing."""
    h = data.hex()
    if not h:
        return None
    if h.count("f") == len(h):
        return None
    neg = h.startswith("ff")
    digits = h[2:] if neg else h
    if not digits.isdigit():
        raise FrameError(f"{ident}: data {h.upper()} is not BCD (digits 0-9, FF sign prefix)")
    v = int(digits) / (10**decimals) if decimals else float(int(digits))
    return -v if neg else v


def _encode_bcd(value: float, nbytes: int, decimals: int, ident: str) -> bytes:
    scaled = round(abs(value) * 10**decimals)
    if value < 0:
        digits = f"{scaled:0{2 * (nbytes - 1)}d}"
        if len(digits) > 2 * (nbytes - 1):
            raise FrameError(
                f"{ident}: {value} does not fit {nbytes} bytes with {decimals} decimals"
            )
        return b"\xff" + bytes.fromhex(digits)
    digits = f"{scaled:0{2 * nbytes}d}"
    if len(digits) > 2 * nbytes:
        raise FrameError(f"{ident}: {value} does not fit {nbytes} bytes with {decimals} decimals")
    return bytes.fromhex(digits)


def _short(body: bytes | str, pos: int, n: int, what: str) -> None:
    if pos + n > len(body):  # called only when short; the check keeps it honest
        raise FrameError(
            f"{what} needs {n} bytes at body offset {pos}; only {len(body) - pos} remain"
        )


# -- body (HEX) ---------------------------------------------------------------------------------
def _parse_body_hex(fr: Frame, body: bytes) -> None:
    fc = fr.function
    n = len(body)
    if fr.direction == "down":
        if n >= 8:
            fr.serial = (body[0] << 8) | body[1]
            fr.send_time = _bcd_time(body[2:8], "send time", True)
            if n > 8:
                fr.payload = body[8:]
        elif n:
            fr.payload = body
        return
    if len(body) < 8:
        _short(body, 0, 8, "serial number and send time")
    fr.serial = (body[0] << 8) | body[1]
    fr.send_time = _bcd_time(body[2:8], "send time", True)
    pos = 8
    if fc == 0x2F:
        if n != 8:
            fr.warnings.append(f"keep-alive body is {n} bytes; expected 8")
        return
    tt: datetime | None = None
    station: str | None = None
    elements = fr.elements
    while pos < n:
        if pos + 2 > n:
            raise FrameError(f"1 stray byte {body[pos]:02X} at the end of the body (offset {pos})")
        g, d = body[pos], body[pos + 1]
        if g == 0xF1 and d == 0xF1:
            if pos + 2 + 5 > len(body):
                _short(body, pos + 2, 5, "station address (F1F1)")
            station = body[pos + 2 : pos + 7].hex().upper()
            pos += 7
            if fr.body_station is None:
                fr.body_station = station
                if station != fr.station:
                    fr.warnings.append(
                        f"body station {station} differs from header station {fr.station}"
                    )
            if fc in CLASS_FUNCTIONS:
                if pos + 1 > len(body):
                    _short(body, pos, 1, "station class code")
                c = body[pos]
                fr.station_class = STATION_CLASSES.get(c, f"{c:02X}")
                pos += 1
            elif fc not in ELEMENT_FUNCTIONS:
                _parse_rest(fr, body, pos)
                return
            continue
        if g == 0xF0 and d == 0xF0:
            if pos + 2 + 5 > len(body):
                _short(body, pos + 2, 5, "observation time (F0F0)")
            tt = _bcd_time(body[pos + 2 : pos + 7], "observation time TT", False)
            pos += 7
            continue
        if g == 0xF2 and d == 0xF2:
            elements.append(
                Element("RGZS", 0xF2F2, body[pos + 2 :].decode("ascii", "replace"), "", tt, station)
            )
            return
        if g == 0xF3 and d == 0xF3:
            elements.append(Element("PIC", 0xF3F3, bytes(body[pos + 2 :]), "", tt, station))
            return
        if g == 0xF4 and d == 0x60:
            if pos + 2 + 12 > len(body):
                _short(body, pos + 2, 12, "DRP (12 x 1 byte)")
            vals = [None if b == 0xFF else b / 10.0 for b in body[pos + 2 : pos + 14]]
            elements.append(Element("DRP", 0xF460, vals, "mm", tt, station, 1))
            pos += 14
            continue
        if 0xF5 <= g <= 0xFC and d == 0xC0:
            if pos + 2 + 24 > len(body):
                _short(body, pos + 2, 24, f"{_DRZ_GUIDES[g]} (12 x 2 bytes)")
            raw = body[pos + 2 : pos + 26]
            vals = []
            for i in range(0, 24, 2):
                v = (raw[i] << 8) | raw[i + 1]
                vals.append(None if v == 0xFFFF else v / 100.0)
            elements.append(Element(_DRZ_GUIDES[g], (g << 8) | d, vals, "m", tt, station, 2))
            pos += 26
            continue
        if g == 0x04 and d == 0x18:
            if pos + 2 + 3 > len(body):
                _short(body, pos + 2, 3, "time-step code (04 18)")
            code = body[pos + 2 : pos + 5].hex()
            if not code.isdigit():
                raise FrameError(f"time-step code {code.upper()} is not BCD DDHHMM")
            fr.step_code = code
            pos += 5
            if fc == 0x31:
                _parse_uniform(fr, body, pos + 0, tt, station)
                return
            continue
        if fc in PARAM_FUNCTIONS:
            pos = _parse_param(fr, body, pos)
            continue
        pos = _parse_element(fr, body, pos, tt, station)


def _parse_rest(fr: Frame, body: bytes, pos: int) -> None:
    """Bodies after F1F1 that are not element groups (45H, 47H–4F, 50H, 51H …)."""
    fc = fr.function
    if fc in PARAM_FUNCTIONS:
        while pos < len(body):
            if pos + 2 > len(body):
                raise FrameError(f"1 stray byte at the end of the parameter list (offset {pos})")
            pos = _parse_param(fr, body, pos)
        return
    if pos < len(body):
        fr.payload = bytes(body[pos:])


def _parse_param(fr: Frame, body: bytes, pos: int) -> int:
    code, d = body[pos], body[pos + 1]
    nbytes = d >> 3
    if pos + 2 + nbytes > len(body):
        _short(body, pos + 2, nbytes, f"parameter {code:02X}")
    fr.params.append((f"{code:02X}", body[pos + 2 : pos + 2 + nbytes].hex().upper()))
    return pos + 2 + nbytes


def _ident_at(body: bytes, pos: int) -> tuple[int, str, str, int, int, int]:
    """(code, ident, unit, nbytes, decimals, new position) of the identifier at ``pos``."""
    g = body[pos]
    if g == 0xFF:
        if pos + 3 > len(body):
            _short(body, pos, 3, "extended element identifier (FF xx dd)")
        code = 0xFF00 | body[pos + 1]
        d = body[pos + 2]
        pos += 3
        ident, unit = f"0xFF{body[pos - 2]:02X}", ""
    else:
        code = g
        d = body[pos + 1]
        pos += 2
        info = ELEMENTS.get(g)
        ident, unit = (info[0], info[1]) if info else (f"0x{g:02X}", "")
    return code, ident, unit, d >> 3, d & 0x07, pos


def _parse_element(
    fr: Frame, body: bytes, pos: int, tt: datetime | None, station: str | None
) -> int:
    code, ident, unit, nbytes, dec, pos = _ident_at(body, pos)
    if nbytes == 0:
        raise FrameError(f"element {ident} at body offset {pos - 2} declares 0 data bytes")
    if pos + nbytes > len(body):
        _short(body, pos, nbytes, f"element {ident}")
    data = body[pos : pos + nbytes]
    if code == 0x45:  # ZT: status and alarm bits, HEX not BCD (Table 58)
        value: object = int.from_bytes(data, "big")
    else:
        value = bcd_value(data, dec, ident)
    fr.elements.append(Element(ident, code, value, unit, tt, station, dec))
    return pos + nbytes


def _parse_uniform(
    fr: Frame, body: bytes, pos: int, tt: datetime | None, station: str | None
) -> None:
    """31H: one element identifier then its values at the step code's interval (HEX mode)."""
    if pos >= len(body):
        return
    if pos + 2 > len(body):
        _short(body, pos, 2, "uniform-interval element identifier")
    code, ident, unit, nbytes, dec, pos = _ident_at(body, pos)
    if nbytes == 0:
        raise FrameError(f"uniform-interval element {ident} declares 0 data bytes")
    rest = len(body) - pos
    if rest % nbytes:
        raise FrameError(
            f"uniform-interval element {ident}: {rest} data bytes is not a multiple of {nbytes}"
        )
    vals = [bcd_value(body[i : i + nbytes], dec, ident) for i in range(pos, len(body), nbytes)]
    fr.elements.append(Element(ident, code, vals, unit, tt, station, dec))


# -- decode -------------------------------------------------------------------------------------
def decode(data: bytes | bytearray | str) -> Frame:
    """Decode one frame (bytes, or a hex string with optional spaces); raise FrameError."""
    if isinstance(data, str):
        data = parse_hex_text(data)
    data = bytes(data)
    if len(data) < 2:
        raise FrameError(f"frame is {len(data)} bytes; expected 7E7E (HEX) or 01 (ASCII) start")
    if data[0] == 0x7E and data[1] == 0x7E:
        return _decode_hex(data)
    if data[0] == SOH:
        return _decode_ascii(data)
    raise FrameError(
        f"frame starts with {data[:2].hex().upper()}; expected 7E7E (HEX) or 01 SOH (ASCII)"
    )


def parse_hex_text(text: str) -> bytes:
    """``'7E 7E 01 …'`` or ``'7E7E01…'`` -> bytes; FrameError if it is not hex."""
    cleaned = "".join(text.split())
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise FrameError(
            f"not a hex string ({len(cleaned)} chars, starts {cleaned[:16]!r}); expected pairs of "
            "hex digits such as 7E7E01…"
        ) from None


def hex_frame_length(header: bytes) -> int:
    """Total length of a HEX frame from its first 13 bytes (for stream framing)."""
    length = ((header[11] << 8) | header[12]) & 0x0FFF
    return 17 + length


def ascii_frame_length(header: bytes) -> int:
    """Total length of an ASCII frame from its first 24 bytes (for stream framing)."""
    try:
        length = int(header[20:23].decode("ascii"), 16)
    except (UnicodeDecodeError, ValueError):
        raise FrameError(f"ASCII length field {header[19:23]!r} is not 4 hex characters") from None
    return 24 + length + 5


def _decode_hex(buf: bytes) -> Frame:
    n = len(buf)
    if n < 17:
        raise FrameError(f"HEX frame is {n} bytes; the shortest possible is 17")
    dirlen = (buf[11] << 8) | buf[12]
    dir_bits, length = dirlen >> 12, dirlen & 0x0FFF
    if dir_bits == 0:
        direction = "up"
    elif dir_bits == 8:
        direction = "down"
    else:
        raise FrameError(
            f"direction nibble {dir_bits:X} in {dirlen:04X}; expected 0 (up) or 8 (down)"
        )
    expected = 17 + length
    if n != expected:
        raise FrameError(f"frame is {n} bytes but its length field {length} implies {expected}")
    crc_rx = (buf[-2] << 8) | buf[-1]
    crc_calc = crc16_modbus(buf[:-2])
    if crc_rx != crc_calc:
        raise FrameError(
            f"CRC mismatch: frame says {crc_rx:04X}, computed {crc_calc:04X} "
            "(CRC-16/MODBUS, high byte first)"
        )
    start, end = buf[13], buf[-3]
    if start not in (STX, SYN):
        raise FrameError(f"body start {start:02X}; expected 02 STX or 16 SYN")
    if direction == "up":
        centre, station = buf[2], buf[3:8].hex().upper()
    else:
        station, centre = buf[2:7].hex().upper(), buf[7]
    fr = Frame(
        "hex",
        direction,
        centre,
        station,
        buf[8:10].hex().upper(),
        buf[10],
        length,
        start,
        end,
        crc_rx,
        b"",
    )
    _check_end(fr)
    body_start = 14
    if start == SYN:
        if length < 3:
            raise FrameError(f"multi-packet frame with length {length}; needs >= 3 packet bytes")
        pk = (buf[14] << 16) | (buf[15] << 8) | buf[16]
        fr.packet_total, fr.packet_seq = pk >> 12, pk & 0x0FFF
        _check_packet(fr)
        body_start = 17
    fr.body = buf[body_start:-3]
    _finish(fr)
    return fr


def _check_end(fr: Frame) -> None:
    if fr.direction == "up":
        if fr.end not in UP_END:
            if fr.end in DOWN_END:  # yu_22 ends in ENQ: accept, say so
                fr.warnings.append(
                    f"up-link frame ends with {CONTROL_NAMES[fr.end]}; expected ETX or ETB"
                )
            else:
                raise FrameError(
                    f"end character {fr.end:02X}; up-link frames end with 03 ETX or 17 ETB"
                )
        if fr.end == ETB and fr.start == STX:
            fr.warnings.append("ETB (more follows) on a single-packet STX frame")
    elif fr.end not in DOWN_END and fr.end not in UP_END:
        raise FrameError(f"end character {fr.end:02X} is not valid on a down-link frame")


def _check_packet(fr: Frame) -> None:
    t, s = fr.packet_total, fr.packet_seq
    if not t or not s or s > t:
        raise FrameError(f"packet {s} of {t}; expected 1 <= seq <= total, total >= 1")


def _finish(fr: Frame) -> None:
    """Parse the body of a single-packet frame, or the first packet's header of a split one."""
    if fr.start == SYN and fr.packet_total != 1:
        fr.complete = False
        if fr.packet_seq == 1 and fr.direction == "up" and len(fr.body) >= 8:
            if fr.encoding == "hex":
                fr.serial = (fr.body[0] << 8) | fr.body[1]
                fr.send_time = _bcd_time(fr.body[2:8], "send time", True)
            else:
                _ascii_serial_time(fr, fr.body.decode("ascii", "replace"))
        return
    if fr.encoding == "hex":
        _parse_body_hex(fr, fr.body)
    else:
        _parse_body_ascii(fr, fr.body)


# -- ASCII --------------------------------------------------------------------------------------
def _hexfield(buf: bytes, a: int, b: int, what: str) -> str:
    try:
        s = buf[a:b].decode("ascii")
        int(s, 16)
    except (UnicodeDecodeError, ValueError):
        raise FrameError(f"ASCII {what} {buf[a:b]!r} is not hex characters") from None
    return s.upper()


def _decode_ascii(buf: bytes) -> Frame:
    n = len(buf)
    if n < 29:
        raise FrameError(f"ASCII frame is {n} bytes; the shortest possible is 29")
    dirlen = _hexfield(buf, 19, 23, "direction+length")
    if dirlen[0] not in "08":
        raise FrameError(
            f"ASCII direction character {dirlen[0]!r}; expected '0' (up) or '8' (down)"
        )
    direction = "up" if dirlen[0] == "0" else "down"
    length = int(dirlen[1:], 16)
    expected = 24 + length + 5
    if n != expected:
        raise FrameError(
            f"ASCII frame is {n} bytes but its length field {length} implies {expected}"
        )
    crc_rx = int(_hexfield(buf, n - 4, n, "CRC"), 16)
    crc_calc = crc16_modbus(buf[:-4])
    if crc_rx != crc_calc:
        raise FrameError(
            f"CRC mismatch: frame says {crc_rx:04X}, computed {crc_calc:04X} "
            "(CRC-16/MODBUS over the ASCII bytes)"
        )
    start, end = buf[23], buf[-5]
    if start not in (STX, SYN):
        raise FrameError(f"body start {start:02X}; expected 02 STX or 16 SYN")
    if direction == "up":
        centre = int(_hexfield(buf, 1, 3, "centre address"), 16)
        station = _hexfield(buf, 3, 13, "station address")
    else:
        station = _hexfield(buf, 1, 11, "station address")
        centre = int(_hexfield(buf, 11, 13, "centre address"), 16)
    password = _hexfield(buf, 13, 17, "password")
    fc = int(_hexfield(buf, 17, 19, "function code"), 16)
    fr = Frame("ascii", direction, centre, station, password, fc, length, start, end, crc_rx, b"")
    _check_end(fr)
    body_start = 24
    if start == SYN:
        if length < 6:
            raise FrameError(
                f"ASCII multi-packet frame with length {length}; needs >= 6 packet chars"
            )
        pk = int(_hexfield(buf, 24, 30, "packet total/seq"), 16)
        fr.packet_total, fr.packet_seq = pk >> 12, pk & 0x0FFF
        _check_packet(fr)
        body_start = 30
    fr.body = buf[body_start:-5]
    _finish(fr)
    return fr


def _ascii_serial_time(fr: Frame, text: str) -> int:
    if len(text) < 16:
        raise FrameError(f"ASCII body {text[:16]!r} is shorter than serial (4) + send time (12)")
    try:
        fr.serial = int(text[:4], 16)
    except ValueError:
        raise FrameError(f"ASCII serial {text[:4]!r} is not 4 hex characters") from None
    fr.send_time = _bcd_time(_digits_to_bytes(text[4:16], "send time"), "send time", True)
    return 16


def _digits_to_bytes(s: str, what: str) -> bytes:
    if not s.isdigit() or not s.isascii():
        raise FrameError(f"ASCII {what} {s!r} is not decimal digits")
    return bytes.fromhex(s)


def _ascii_number(tok: str, ident: str) -> float | None:
    if tok == "M":
        return None
    try:
        v = float(tok)
    except ValueError:
        raise FrameError(
            f"ASCII element {ident}: value {tok!r} is not a number (or M = missing)"
        ) from None
    if v != v or v in (float("inf"), float("-inf")):
        raise FrameError(f"ASCII element {ident}: value {tok!r} is not finite")
    return v


def _parse_body_ascii(fr: Frame, body: bytes) -> None:
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise FrameError(f"ASCII body has a non-ASCII byte at offset {exc.start}") from None
    if fr.direction == "down":
        if len(text) >= 16:
            _ascii_serial_time(fr, text)
        return
    pos = _ascii_serial_time(fr, text)
    if fr.function == 0x2F:
        return
    rest = text[pos:]
    # manual entry and pictures carry raw data after their identifier
    for tag in ("RGZS", "PIC"):
        i = rest.find(tag + " ")
        if i >= 0:
            raw = rest[i + len(tag) + 1 :]
            head = rest[:i]
            _parse_ascii_tokens(fr, head.split())
            tt = fr.elements[-1].time if fr.elements else None
            fr.elements.append(
                Element(tag, 0xF2F2 if tag == "RGZS" else 0xF3F3, raw, "", tt, fr.body_station)
            )
            return
    _parse_ascii_tokens(fr, rest.split())


def _parse_ascii_tokens(fr: Frame, toks: list[str]) -> None:
    tt: datetime | None = None
    station: str | None = None
    i, n = 0, len(toks)
    while i < n:
        ident = toks[i]
        if i + 1 >= n:
            raise FrameError(f"ASCII element {ident!r} has no value")
        val = toks[i + 1]
        i += 2
        if ident == "ST":
            if len(val) != 10:
                raise FrameError(f"ASCII station address {val!r}; expected 10 characters")
            station = val.upper()
            if fr.body_station is None:
                fr.body_station = station
                if station != fr.station:
                    fr.warnings.append(
                        f"body station {station} differs from header station {fr.station}"
                    )
            if fr.function in CLASS_FUNCTIONS:
                if i >= n:
                    raise FrameError("ASCII station address is not followed by the station class")
                fr.station_class = toks[i]
                i += 1
        elif ident == "TT":
            tt = _bcd_time(
                _digits_to_bytes(val, "observation time TT"), "observation time TT", False
            )
        elif ident == "DT" and fr.function == 0x31 and len(val) == 6 and val.isdigit():
            fr.step_code = val
        elif ident == "DRP":
            if len(val) != 24:
                raise FrameError(f"ASCII DRP {val!r}; expected 24 hex characters (12 x 1 byte)")
            raw = _ascii_hex(val, "DRP")
            fr.elements.append(
                Element(
                    "DRP",
                    0xF460,
                    [None if b == 0xFF else b / 10.0 for b in raw],
                    "mm",
                    tt,
                    station,
                    1,
                )
            )
        elif ident in _DRZ_BY_ID:
            if len(val) != 48:
                raise FrameError(
                    f"ASCII {ident} {val!r}; expected 48 hex characters (12 x 2 bytes)"
                )
            raw = _ascii_hex(val, ident)
            vals = [
                None if (raw[k] << 8 | raw[k + 1]) == 0xFFFF else (raw[k] << 8 | raw[k + 1]) / 100.0
                for k in range(0, 24, 2)
            ]
            fr.elements.append(
                Element(ident, (_DRZ_BY_ID[ident] << 8) | 0xC0, vals, "m", tt, station, 2)
            )
        elif ident == "ZT":
            fr.elements.append(
                Element("ZT", 0x45, int(_ascii_hex(val, "ZT").hex(), 16), "1", tt, station)
            )
        else:
            g = ELEMENT_BY_ID.get(ident)
            unit = ELEMENTS[g][1] if g is not None else ""
            fr.elements.append(
                Element(
                    ident, g if g is not None else 0, _ascii_number(val, ident), unit, tt, station
                )
            )


def _ascii_hex(s: str, what: str) -> bytes:
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise FrameError(f"ASCII {what} {s!r} is not hex characters") from None


# -- multi-packet reassembly -------------------------------------------------------------------
class Reassembler:
    """Joins the packets of M3 multi-packet messages (SYN … ETB, last ETX) into one Frame.

    Packets are keyed by (station, function code); a repeated packet replaces the earlier
    copy (a station resends a packet the centre NAKed). ``feed`` returns the complete frame
    with its body parsed, or None while packets are missing. ``bytes`` is what the pending
    packets hold, so that a receiver can bound it across connections; ``expire`` drops
    messages whose latest packet is older than a time-out.
    """

    def __init__(self, max_pending: int = 64, max_total_bytes: int = 8 * 1024 * 1024) -> None:
        self._pending: dict[tuple[str, int], dict[int, Frame]] = {}
        self._started: dict[tuple[str, int], float] = {}
        self._held: dict[tuple[str, int], int] = {}  # body bytes per pending message
        self.max_pending = max_pending
        self.max_total_bytes = max_total_bytes
        self.bytes = 0

    def _drop(self, key: tuple[str, int]) -> None:
        self._pending.pop(key, None)
        self._started.pop(key, None)
        self.bytes -= self._held.pop(key, 0)

    def clear(self) -> None:
        """Drop every pending message (the connection closed)."""
        self._pending.clear()
        self._started.clear()
        self._held.clear()
        self.bytes = 0

    def expire(self, now: float, timeout_s: float) -> list[tuple[str, int]]:
        """Drop messages with no packet for more than ``timeout_s``; their keys."""
        old = [k for k, t in self._started.items() if now - t > timeout_s]
        for k in old:
            self._drop(k)
        return old

    def feed(self, fr: Frame, now: float = 0.0) -> Frame | None:
        if fr.complete:
            return fr
        key = (fr.station, fr.function)
        parts = self._pending.get(key)
        if parts is None:
            if len(self._pending) >= self.max_pending:
                oldest = next(iter(self._pending))
                log.warning(
                    "dropping incomplete multi-packet message %s (too many pending)", oldest
                )
                self._drop(oldest)
            parts = self._pending[key] = {}
        self._started[key] = now  # the time-out counts from the latest packet
        if parts and next(iter(parts.values())).packet_total != fr.packet_total:
            total = next(iter(parts.values())).packet_total
            self._drop(key)
            raise FrameError(
                f"packet {fr.packet_seq} says {fr.packet_total} packets in all but earlier packets "
                f"of station {fr.station} function {fr.function:02X} said {total}"
            )
        old = parts.get(fr.packet_seq or 0)
        parts[fr.packet_seq or 0] = fr
        grown = len(fr.body) - (len(old.body) if old else 0)
        self.bytes += grown
        self._held[key] = self._held.get(key, 0) + grown
        if self._held[key] > self.max_total_bytes:
            self._drop(key)
            raise FrameError(
                f"multi-packet message from {fr.station} exceeds {self.max_total_bytes} bytes"
            )
        if len(parts) < (fr.packet_total or 0):
            return None
        self._drop(key)
        ordered = [parts[i] for i in range(1, (fr.packet_total or 0) + 1)]
        first = ordered[0]
        merged = replace(
            first,
            body=b"".join(p.body for p in ordered),
            complete=True,
            packet_seq=fr.packet_total,
            end=ordered[-1].end,
            elements=[],
            params=[],
            warnings=list(first.warnings),
            serial=None,
            send_time=None,
        )
        if merged.encoding == "hex":
            _parse_body_hex(merged, merged.body)
        else:
            _parse_body_ascii(merged, merged.body)
        return merged

    def missing(self, station: str, function: int) -> list[int]:
        """Sequence numbers not yet received for a pending message (for a NAK)."""
        parts = self._pending.get((station, function))
        if not parts:
            return []
        total = next(iter(parts.values())).packet_total or 0
        return [i for i in range(1, total + 1) if i not in parts]


# -- encode -------------------------------------------------------------------------------------
def _check_addr(station: str, password: str, centre: int) -> tuple[bytes, bytes]:
    try:
        st = bytes.fromhex(station)
        pw = bytes.fromhex(password)
    except ValueError:
        raise FrameError(
            f"station {station!r} / password {password!r} must be hex digits"
        ) from None
    if len(st) != 5 or len(pw) != 2:
        raise FrameError(f"station {station!r} must be 10 hex digits and password {password!r} 4")
    if not 0 <= centre <= 255:
        raise FrameError(f"centre address {centre}; expected 0-255")
    return st, pw


def encode_frame(
    *,
    station: str,
    password: str,
    function: int,
    body: bytes,
    centre: int = 1,
    direction: str = "up",
    end: int = ETX,
    encoding: str = "hex",
    packet: tuple[int, int] | None = None,
) -> bytes:
    """Build a complete frame around ``body`` (HEX bytes, or ASCII text bytes)."""
    st, pw = _check_addr(station, password, centre)
    start = SYN if packet else STX
    if encoding == "hex":
        pk = b""
        if packet:
            total, seq = packet
            pk = ((total << 12) | seq).to_bytes(3, "big")
        length = len(body) + len(pk)
        if length > 0x0FFF:
            raise FrameError(
                f"body of {length} bytes exceeds the 12-bit length limit 4095; split it"
            )
        dirlen = (0x8000 if direction == "down" else 0) | length
        addr = st + bytes([centre]) if direction == "down" else bytes([centre]) + st
        head = b"\x7e\x7e" + addr + pw + bytes([function]) + dirlen.to_bytes(2, "big")
        frame = head + bytes([start]) + pk + body + bytes([end])
        return frame + crc16_modbus(frame).to_bytes(2, "big")
    if encoding == "ascii":
        pk = b""
        if packet:
            total, seq = packet
            pk = f"{(total << 12) | seq:06X}".encode()
        length = len(body) + len(pk)
        if length > 0x0FFF:
            raise FrameError(
                f"body of {length} bytes exceeds the 12-bit length limit 4095; split it"
            )
        c, s = f"{centre:02X}", station.upper()
        addr_txt = s + c if direction == "down" else c + s
        dchar = "8" if direction == "down" else "0"
        htxt = f"{addr_txt}{password.upper()}{function:02X}{dchar}{length:03X}"
        frame = bytes([SOH]) + htxt.encode() + bytes([start]) + pk + body + bytes([end])
        return frame + f"{crc16_modbus(frame):04X}".encode()
    raise FrameError(f"encoding {encoding!r}; expected 'hex' or 'ascii'")


ElementValue = float | None | Sequence[float | None]


def _encode_element_hex(ident: str, value: ElementValue) -> bytes:
    if ident == "DRP":
        vals = list(value)  # type: ignore[arg-type]
        if len(vals) != 12:
            raise FrameError(f"DRP needs 12 five-minute values; got {len(vals)}")
        return b"\xf4\x60" + bytes(0xFF if v is None else min(round(v * 10), 0xFE) for v in vals)
    if ident in _DRZ_BY_ID:
        vals = list(value)  # type: ignore[arg-type]
        if len(vals) != 12:
            raise FrameError(f"{ident} needs 12 five-minute values; got {len(vals)}")
        out = bytes([_DRZ_BY_ID[ident], 0xC0])
        for v in vals:
            out += (0xFFFF if v is None else round(v * 100)).to_bytes(2, "big")
        return out
    g = ELEMENT_BY_ID.get(ident)
    if g is None:
        raise FrameError(f"unknown element identifier {ident!r}; known: {sorted(ELEMENT_BY_ID)}")
    _, _, digits, dec = ELEMENTS[g]
    nbytes = (digits + 1) // 2
    if value is None:
        return bytes([g, (nbytes << 3) | dec]) + b"\xff" * nbytes
    v = float(value)  # type: ignore[arg-type]
    if g == 0x45:
        return bytes([g, 0x20]) + int(v).to_bytes(4, "big")
    if v < 0:
        nbytes += 1
    return bytes([g, (nbytes << 3) | dec]) + _encode_bcd(v, nbytes, dec, ident)


def _encode_element_ascii(ident: str, value: ElementValue) -> str:
    if ident == "DRP":
        return "DRP " + "".join("FF" if v is None else f"{round(v * 10):02X}" for v in value) + " "  # type: ignore[union-attr]
    if ident in _DRZ_BY_ID:
        vals: Sequence[float | None] = value  # type: ignore[assignment]
        return (
            ident
            + " "
            + "".join("FFFF" if v is None else f"{round(v * 100):04X}" for v in vals)
            + " "
        )
    g = ELEMENT_BY_ID.get(ident)
    if g is None:
        raise FrameError(f"unknown element identifier {ident!r}")
    if value is None:
        return f"{ident} M "
    dec = ELEMENTS[g][3]
    return f"{ident} {float(value):.{dec}f} "  # type: ignore[arg-type]


def encode_report(
    *,
    station: str,
    password: str,
    function: int = 0x32,
    serial: int,
    send_time: datetime,
    obs_time: datetime,
    elements: Iterable[tuple[str, ElementValue]],
    station_class: str = "H",
    centre: int = 1,
    encoding: str = "hex",
) -> bytes:
    """Encode an up-link observation report (30H–34H, 37H) as a station would send it.

    ``send_time`` and ``obs_time`` are station-local naive datetimes (the standard's clock).
    """
    if not 0 <= serial <= 0xFFFF:
        raise FrameError(f"serial {serial}; expected 0-65535")
    els = list(elements)
    if encoding == "hex":
        body = serial.to_bytes(2, "big") + bytes.fromhex(send_time.strftime("%y%m%d%H%M%S"))
        body += b"\xf1\xf1" + bytes.fromhex(station) + station_class.encode("ascii")[:1]
        body += b"\xf0\xf0" + bytes.fromhex(obs_time.strftime("%y%m%d%H%M"))
        for ident, val in els:
            body += _encode_element_hex(ident, val)
    else:
        text = f"{serial:04X}{send_time.strftime('%y%m%d%H%M%S')} "
        text += f"ST {station.upper()} {station_class} "
        text += f"TT {obs_time.strftime('%y%m%d%H%M')} "
        for ident, val in els:
            text += _encode_element_ascii(ident, val)
        body = text.encode("ascii")
    return encode_frame(
        station=station,
        password=password,
        function=function,
        body=body,
        centre=centre,
        encoding=encoding,
    )


def encode_keepalive(
    *,
    station: str,
    password: str,
    serial: int,
    send_time: datetime,
    centre: int = 1,
    encoding: str = "hex",
) -> bytes:
    """A 2F link keep-alive (serial + send time only)."""
    if encoding == "hex":
        body = serial.to_bytes(2, "big") + bytes.fromhex(send_time.strftime("%y%m%d%H%M%S"))
    else:
        body = f"{serial:04X}{send_time.strftime('%y%m%d%H%M%S')}".encode()
    return encode_frame(
        station=station,
        password=password,
        function=0x2F,
        body=body,
        centre=centre,
        encoding=encoding,
    )


def encode_reply(fr: Frame, end: int = EOT, send_time: datetime | None = None) -> bytes:
    """Down-link confirmation of an up-link frame: serial echoed, then send time, then ``end``.

    Real confirmations echo the station's send time (blog_30_ack, blog_32_ack, m21f_32_ack);
    pass ``send_time`` to send the centre's clock instead. ``end``: EOT (done), ESC (stay
    online), ACK, or NAK (bad packet; for M3 the NAK carries the packet number instead).
    """
    if end not in DOWN_END:
        raise FrameError(f"reply end character {end:02X}; expected ACK/NAK/EOT/ESC/ENQ")
    st = send_time or fr.send_time or datetime(2000, 1, 1)
    serial = fr.serial or 0
    if fr.encoding == "hex":
        body = serial.to_bytes(2, "big") + bytes.fromhex(st.strftime("%y%m%d%H%M%S"))
    else:
        body = f"{serial:04X}{st.strftime('%y%m%d%H%M%S')}".encode()
    return encode_frame(
        station=fr.station,
        password=fr.password,
        function=fr.function,
        body=body,
        centre=fr.centre,
        direction="down",
        end=end,
        encoding=fr.encoding,
    )


def split_message(
    *,
    station: str,
    password: str,
    function: int,
    body: bytes,
    centre: int = 1,
    max_body: int = 256,
    encoding: str = "hex",
) -> list[bytes]:
    """Split a long body into M3 packets (SYN, ETB on all but the last, ETX on the last)."""
    chunks = [body[i : i + max_body] for i in range(0, len(body), max_body)] or [b""]
    total = len(chunks)
    if total > 0x0FFF:
        raise FrameError(f"{total} packets exceed the 12-bit packet count limit 4095")
    return [
        encode_frame(
            station=station,
            password=password,
            function=function,
            body=c,
            centre=centre,
            end=ETB if i < total else ETX,
            encoding=encoding,
            packet=(total, i),
        )
        for i, c in enumerate(chunks, start=1)
    ]


# -- frame -> observations ---------------------------------------------------------------------
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
#: Function codes whose values are not stored as observations: 30H test reports go to a test
#: database (SL 651-2014 Table B.1), 2F and the configuration codes carry no observations.
_NOT_OBSERVATIONS = frozenset({0x30})


def station_code(address: str) -> str:
    """SL 323 STCD of an SL 651 address: hydrological stations ``00``+8 BCD digits -> the 8 digits.

    Other addresses (admin code + custom number, §6.2.3.2) have no 8-digit STCD; they are kept
    as the 10 hex digits and must be mapped by the basin's ``Station.sl651_address``.
    """
    a = address.upper()
    if a.startswith("00") and a[2:].isdigit():
        return a[2:]
    return a


def _step_minutes(code: str | None) -> int:
    if not code or code == "000000":
        return 5
    return int(code[0:2]) * 1440 + int(code[2:4]) * 60 + int(code[4:6])


def frame_observations(
    fr: Frame, stcd: str | None = None, tz: tzinfo = DEFAULT_TZ, source: str = "sl651"
) -> list[Observation]:
    """Numeric observations in a complete up-link frame, times converted to UTC.

    ``stcd`` names the station (from the basin's address table); by default it is derived
    from the address. Lists (DRP/DRZ, 31H) are expanded to one observation per time step;
    missing values, level sentinels (9999.999) and gate codes without a height are dropped.
    """
    if not fr.complete or fr.direction != "up" or fr.function in _NOT_OBSERVATIONS:
        return []
    out: list[Observation] = []
    step = timedelta(minutes=_step_minutes(fr.step_code))
    default_code = stcd or station_code(fr.station)
    for e in fr.elements:
        if e.time is None or e.ident in ("ZT", "RGZS", "PIC"):
            continue
        code = default_code if e.station in (None, fr.body_station) else station_code(e.station)
        t0 = e.time.replace(tzinfo=tz).astimezone(UTC)
        v = e.value
        if isinstance(v, list):
            # DRP/DRZ: TT is the first 5-minute slot; 31H: TT is the first sample (§1.4)
            unit = e.unit or "mm"
            for i, x in enumerate(v):
                if x is not None and x not in LEVEL_SENTINELS:
                    out.append(Observation(code, t0 + i * step, e.ident, float(x), unit, source))
            continue
        if not isinstance(v, float | int) or isinstance(v, bool):
            continue
        x = float(v)
        if e.unit == "m" and x in LEVEL_SENTINELS:
            continue
        if e.ident == "GH" and x in GATE_SPECIAL:
            g = GATE_SPECIAL[x]
            if g is None:
                continue
            x = g
        out.append(Observation(code, t0, e.ident, x, e.unit, source))
    return out
