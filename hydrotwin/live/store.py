"""The durable observation store: SL 323 tables in SQLite (WAL) or PostgreSQL.

``open_store("obs.db")`` opens (and creates) an embedded SQLite database in WAL mode;
``open_store("postgresql://user@host/db")`` opens the same schema on PostgreSQL (psycopg 3).

Tables (column names and meanings from SL 323 as summarised in standards.md §2):

* ``ST_STBPRP_B`` station attributes (``DTPR`` = the station's datum correction, kept per
  station: basin-datum level = gauge level + DTPR), ``ST_RVFCCH_B`` river flood indexes,
  ``ST_RSVRFCCH_B`` reservoir flood indexes, ``ST_RSVRFSR_B`` flood-limit levels;
* ``ST_PPTN_R`` rain, ``ST_RIVER_R`` river, ``ST_RSVR_R`` reservoir, ``ST_WAS_R`` weir/sluice,
  ``ST_GATE_R`` gate openings;
* ``HT_OBS_R`` every observation as received (station, time, element, value, unit, source,
  received time) — the primary key (STCD, TM, ELEM) makes inserts idempotent;
* ``HT_QUARANTINE`` rejected frames with the reason; ``HT_ALARM_R`` warning events.

Times (``TM``) are stored in UTC — a deliberate deviation from SL 323's Beijing-time
DATETIME so that one clock serves every basin; the app shows the basin's local time. Levels
in the ``ST_*_R`` tables are gauge readings in the station's own datum, as SL 323 keeps them;
``series(..., basin_datum=True)`` applies ``DTPR``. Inserts are upserts keyed on the SL 323
primary keys, so a repeated observation is stored once and late arrivals simply fill in.
Stations reporting rain as ``PJ``/``PT`` get ``ST_PPTN_R`` rows derived per report
(:mod:`hydrotwin.live.rain`).

A SQLite store is the file ``obs.db`` plus, while it is open, ``obs.db-wal`` (committed data
not yet checkpointed into the main file) and ``obs.db-shm``; ``obs.db.spool`` holds what was
acknowledged while the store was down. ``open_store`` refuses a 0-byte or damaged file
(``quick_check``) rather than starting an empty store over it; copy a store with
``hydrotwin store backup`` (:mod:`hydrotwin.live.maintenance`), never ``cp obs.db``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from hydrotwin.errors import StoreDamagedError, StoreError
from hydrotwin.live.observation import LEVEL_ELEMENTS, Observation
from hydrotwin.live.rain import period_rain
from hydrotwin.timeutil import as_utc

log = logging.getLogger(__name__)

# (name, columns, primary key). Column type tokens: T text, N number, D timestamp, I integer.
_TABLES: list[tuple[str, list[tuple[str, str]], list[str]]] = [
    ("ST_STBPRP_B", [("STCD", "T"), ("STNM", "T"), ("RVNM", "T"), ("HNNM", "T"), ("BSNM", "T"),
                     ("LGTD", "N"), ("LTTD", "N"), ("STLC", "T"), ("ADDVCD", "T"), ("DTMNM", "T"),
                     ("DTMEL", "N"), ("DTPR", "N"), ("STTP", "T"), ("FRGRD", "T"), ("USFL", "T"),
                     ("COMMENTS", "T"), ("MODITIME", "D")], ["STCD"]),
    ("ST_RVFCCH_B", [("STCD", "T"), ("LDKEL", "N"), ("RDKEL", "N"), ("WRZ", "N"), ("WRQ", "N"),
                     ("GRZ", "N"), ("GRQ", "N"), ("FLPQ", "N"), ("OBHTZ", "N"), ("OBHTZTM", "D"),
                     ("TAZ", "N"), ("SFZ", "N"), ("MODITIME", "D")], ["STCD"]),
    ("ST_RSVRFCCH_B", [("STCD", "T"), ("RSVRTP", "T"), ("DAMEL", "N"), ("CKFLZ", "N"),
                       ("DSFLZ", "N"), ("NORMZ", "N"), ("DDZ", "N"), ("ACTZ", "N"), ("TTCP", "N"),
                       ("FLDCP", "N"), ("HHRZ", "N"), ("HHRZTM", "D"), ("MODITIME", "D")],
     ["STCD"]),
    ("ST_RSVRFSR_B", [("STCD", "T"), ("BGMD", "T"), ("EDMD", "T"), ("FSLTDZ", "N"),
                      ("FSLTDW", "N"), ("FSTP", "T"), ("MODITIME", "D")], ["STCD", "BGMD"]),
    ("ST_PPTN_R", [("STCD", "T"), ("TM", "D"), ("DRP", "N"), ("INTV", "N"), ("PDR", "N"),
                   ("DYP", "N"), ("WTH", "T")], ["STCD", "TM"]),
    ("ST_RIVER_R", [("STCD", "T"), ("TM", "D"), ("Z", "N"), ("Q", "N"), ("XSA", "N"),
                    ("XSAVV", "N"), ("XSMXV", "N"), ("FLWCHRCD", "T"), ("WPTN", "T"),
                    ("MSQMT", "T"), ("MSAMT", "T"), ("MSVMT", "T")], ["STCD", "TM"]),
    ("ST_RSVR_R", [("STCD", "T"), ("TM", "D"), ("RZ", "N"), ("INQ", "N"), ("W", "N"),
                   ("BLRZ", "N"), ("OTQ", "N"), ("RWCHRCD", "T"), ("RWPTN", "T"), ("INQDR", "N"),
                   ("MSQMT", "T")], ["STCD", "TM"]),
    ("ST_WAS_R", [("STCD", "T"), ("TM", "D"), ("UPZ", "N"), ("DWZ", "N"), ("TGTQ", "N"),
                  ("SWCHRCD", "T"), ("SUPWPTN", "T"), ("SDWWPTN", "T"), ("MSQMT", "T")],
     ["STCD", "TM"]),
    ("ST_GATE_R", [("STCD", "T"), ("TM", "D"), ("EXKEY", "T"), ("EQPTP", "T"), ("EQPNO", "T"),
                   ("GTOPNUM", "N"), ("GTOPHGT", "N"), ("GTQ", "N"), ("MSQMT", "T")],
     ["STCD", "TM", "EXKEY"]),
    ("HT_OBS_R", [("STCD", "T"), ("TM", "D"), ("ELEM", "T"), ("VAL", "N"), ("UNIT", "T"),
                  ("SRC", "T"), ("RCVTM", "D")], ["STCD", "TM", "ELEM"]),
    ("HT_ALARM_R", [("STCD", "T"), ("TM", "D"), ("KIND", "T"), ("LVL", "I"), ("SRC", "T"),
                    ("VAL", "N"), ("THRESHOLD", "N"), ("LEADS", "N"), ("ISSUETM", "D"),
                    ("MSG", "T")], ["STCD", "TM", "KIND", "LVL", "SRC"]),
]  # fmt: skip

_TYPES = {
    "sqlite": {"T": "TEXT", "N": "REAL", "D": "TEXT", "I": "INTEGER"},
    "postgres": {"T": "TEXT", "N": "DOUBLE PRECISION", "D": "TIMESTAMPTZ", "I": "INTEGER"},
}
_QUARANTINE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS HT_QUARANTINE (ID INTEGER PRIMARY KEY AUTOINCREMENT, "
    "RCVTM TEXT NOT NULL, PEER TEXT, REASON TEXT NOT NULL, RAW TEXT)",
    "postgres": "CREATE TABLE IF NOT EXISTS HT_QUARANTINE (ID BIGSERIAL PRIMARY KEY, "
    "RCVTM TIMESTAMPTZ NOT NULL, PEER TEXT, REASON TEXT NOT NULL, RAW TEXT)",
}

#: Station kind (manifest) -> SL 323 station type code STTP (standards.md §2 codes).
STTP_OF_KIND = {"rain": "PP", "river": "ZQ", "reservoir": "RR", "gate": "DD"}

# SL 651 rain elements -> SL 323 INTV (period length hh.mm)
_RAIN_INTV = {
    "DRP": 0.05,
    "PN05": 0.05,
    "PN10": 0.10,
    "PN30": 0.30,
    "P1": 1.00,
    "P2": 2.00,
    "P3": 3.00,
    "P6": 6.00,
    "P12": 12.00,
}
_HOURLY_OR_LONGER = {"P1", "P2", "P3", "P6", "P12"}
_DERIVED_RAIN = ("PJ", "PT")  # rain reported as current amount / counter (rain.py)
_DERIVED_UPSERT = (
    "INSERT INTO ST_PPTN_R (STCD, TM, DRP, INTV) VALUES (?,?,?,?) ON CONFLICT "
    "(STCD, TM) DO UPDATE SET DRP=excluded.DRP, INTV=excluded.INTV"
)
# For each (station, element, first, last) of a batch: its reports from the one before
# `first` (prev) to the one after `last`, each flagged when an explicit period value (or PJ
# over PT) holds its time. One statement for the whole batch: it runs inside every commit.
_STRONGER_SQL = ",".join(f"'{e}'" for e in sorted(_HOURLY_OR_LONGER))
_DERIVE_SQL = (
    "WITH k (STCD, ELEM, A, B) AS (VALUES {0}) "
    "SELECT k.STCD, k.ELEM, h.TM, h.VAL, EXISTS (SELECT 1 FROM HT_OBS_R s "
    "WHERE s.STCD = h.STCD AND s.TM = h.TM "
    f"AND (s.ELEM IN ({_STRONGER_SQL}) OR (k.ELEM = 'PT' AND s.ELEM = 'PJ'))) "
    "FROM k JOIN HT_OBS_R h ON h.STCD = k.STCD AND h.ELEM = k.ELEM "
    "AND h.TM >= COALESCE((SELECT p.TM FROM HT_OBS_R p WHERE p.STCD = k.STCD "
    "AND p.ELEM = k.ELEM AND p.TM < k.A ORDER BY p.TM DESC LIMIT 1), k.A) "
    "AND h.TM <= COALESCE((SELECT n.TM FROM HT_OBS_R n WHERE n.STCD = k.STCD "
    "AND n.ELEM = k.ELEM AND n.TM > k.B ORDER BY n.TM LIMIT 1), k.B) "
    "ORDER BY k.STCD, k.ELEM, h.TM"
)

# SQLite result codes that mean the file (not the statement) is bad: IOERR, CORRUPT, FULL,
# NOTADB, READONLY. Writing on after one of them risks acknowledging unreadable data.
_DAMAGE_CODES = {10, 11, 13, 26, 8}
_PG_DAMAGE_STATES = {"XX001", "XX002", "53100", "58030"}
_DAMAGE_HINT = (
    "stop the service, then `hydrotwin store check --store {p}`; restore with "
    "`hydrotwin store restore --from BACKUP --store {p}` (the spool {p}.spool is replayed)"
)


def is_damage(exc: BaseException) -> bool:
    """True when a driver error says the store's file is damaged or unwritable (SQLite result
    codes; PostgreSQL SQLSTATEs data_corrupted, index_corrupted, disk_full, io_error)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGE_CODES
    if getattr(exc, "sqlstate", None) in _PG_DAMAGE_STATES:
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "disk i/o" in text
    )


def _store_error(where: str, what: str, exc: BaseException) -> StoreError:
    if is_damage(exc):
        return StoreDamagedError(f"{where}: {what}: the file is damaged ({exc}); " + (
            _DAMAGE_HINT.format(p=where)))  # fmt: skip
    return StoreError(f"{where}: {what} ({exc})")


class AlarmLike(Protocol):
    """What ``add_alarms`` needs of an alarm event (``fourpre.warning.AlarmEvent`` has it)."""

    station: str
    time: datetime
    kind: str
    level: int
    source: str
    value: float
    threshold: float | None
    lead_time_s: float
    issued_at: datetime | None
    message: str


@dataclass(frozen=True)
class StationRecord:
    """A row of ST_STBPRP_B as the live layer needs it."""

    stcd: str
    name: str
    sttp: str
    dtpr: float


def _ts(t: datetime) -> str:
    # isoformat is C and 3x faster than strftime; it runs for every observation stored
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "seconds")


def _ts_us(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _parse_ts(v: Any) -> datetime:
    if isinstance(v, datetime):
        return as_utc(v)
    # the store writes "YYYY-MM-DD HH:MM:SS[.ffffff]" (_ts, _ts_us): ISO 8601, parsed in C
    return datetime.fromisoformat(str(v)).replace(tzinfo=UTC)


class ObservationStore:
    """SL 323 store over a DB-API connection; one write transaction at a time (thread-safe)."""

    def __init__(self, conn: Any, dialect: str, where: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self.where = where
        self._lock = threading.RLock()
        self._kinds: dict[str, str] = {}
        self._plans: dict[tuple[str, str], Any] = {}
        self._create_schema()
        self._load_station_types()

    # -- plumbing ------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def _t(self, t: datetime) -> Any:
        return _ts(t) if self.dialect == "sqlite" else t.astimezone(UTC)

    def _create_schema(self) -> None:
        types = _TYPES[self.dialect]
        with self._lock:
            try:
                cur = self._conn.cursor()
                for name, cols, pk in _TABLES:
                    coldefs = ", ".join(
                        f"{c} {types[t]}{' NOT NULL' if c in pk else ''}" for c, t in cols
                    )
                    cur.execute(
                        f"CREATE TABLE IF NOT EXISTS {name} "
                        f"({coldefs}, PRIMARY KEY ({', '.join(pk)}))"
                    )
                cur.execute(_QUARANTINE[self.dialect])
                cur.execute("CREATE INDEX IF NOT EXISTS HT_OBS_R_RCV ON HT_OBS_R (STCD, RCVTM)")
                self._conn.commit()
            except Exception as exc:
                self._conn.rollback()
                raise StoreError(f"{self.where}: cannot create the SL 323 schema: {exc}") from exc

    def _load_station_types(self) -> None:
        for stcd, sttp in self._query("SELECT STCD, STTP FROM ST_STBPRP_B"):
            self._kinds[stcd] = sttp or ""

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute(self._sql(sql), tuple(params))
                rows = cur.fetchall()
                self._conn.commit()
                return rows
            except Exception as exc:
                self._conn.rollback()
                raise _store_error(self.where, f"query failed: {sql[:80]}", exc) from exc

    def check(self, full: bool = False) -> list[str]:
        """SQLite ``quick_check`` (``integrity_check`` when ``full``): the problems, [] if none."""
        if self.dialect != "sqlite":
            return []
        pragma = "integrity_check" if full else "quick_check"
        try:
            rows = self._query(f"PRAGMA {pragma}")
        except StoreError as exc:
            return [str(exc)]
        found = [str(r[0]) for r in rows]
        return [] if found == ["ok"] else found

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int] | None:
        """Copy the WAL into the main file (SQLite): (busy, WAL frames, frames copied)."""
        if self.dialect != "sqlite":
            return None
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise StoreError(f"{self.where}: checkpoint mode {mode!r}; expected PASSIVE … TRUNCATE")
        row = self._query(f"PRAGMA wal_checkpoint({mode})")[0]
        return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        """Close; a SQLite store is checkpointed first so the main file alone is complete."""
        with self._lock:
            if self.dialect == "sqlite":
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:  # damaged or busy: the WAL stays; say so
                    log.warning("%s: checkpoint on close failed: %s", self.where, exc)
            self._conn.close()

    def __enter__(self) -> ObservationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- stations ------------------------------------------------------------------------------
    def sync_basin(self, basin: Any) -> None:
        """Write the basin's stations and flood indexes (ST_STBPRP_B, ST_RVFCCH_B,
        ST_RSVRFCCH_B, ST_RSVRFSR_B); DTPR takes each station's ``datum_offset_m``."""
        now = self._t(datetime.now(UTC))
        st_rows, rv_rows, rs_rows, fsr_rows = [], [], [], []
        for s in basin.stations:
            sttp = STTP_OF_KIND.get(s.kind, "")
            st_rows.append(
                (
                    s.id,
                    s.names.zh,
                    s.river,
                    basin.id,
                    s.x,
                    s.y,
                    s.datum_name,
                    s.datum_offset_m,
                    sttp,
                    now,
                )
            )
            th = s.thresholds
            if s.kind == "reservoir" and s.reservoir:
                lv = basin.reservoir(s.reservoir).levels
                rs_rows.append(
                    (
                        s.id,
                        lv.dam_crest_m,
                        th.check_flood_m or lv.check_flood_m,
                        th.design_flood_m or lv.design_flood_m,
                        lv.normal_m,
                        lv.dead_m,
                        th.historical_max_m,
                        now,
                    )
                )
                fsr_rows.append((s.id, "0101", "1231", th.flood_limit_m or lv.flood_limit_m, now))
            else:
                rv_rows.append(
                    (
                        s.id,
                        th.warning_m,
                        th.warning_q_m3s,
                        th.guaranteed_m,
                        th.historical_max_m,
                        now,
                    )
                )
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.executemany(
                    self._sql(
                        "INSERT INTO ST_STBPRP_B (STCD, STNM, RVNM, BSNM, LGTD, LTTD, DTMNM, DTPR, "
                        "STTP, MODITIME) VALUES (?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (STCD) DO UPDATE SET "
                        "STNM=excluded.STNM, RVNM=excluded.RVNM, BSNM=excluded.BSNM, "
                        "LGTD=excluded.LGTD, "
                        "LTTD=excluded.LTTD, DTMNM=excluded.DTMNM, DTPR=excluded.DTPR, "
                        "STTP=excluded.STTP, MODITIME=excluded.MODITIME"
                    ),
                    st_rows,
                )
                cur.executemany(
                    self._sql(
                        "INSERT INTO ST_RVFCCH_B (STCD, WRZ, WRQ, GRZ, OBHTZ, MODITIME) "
                        "VALUES (?,?,?,?,?,?) ON CONFLICT (STCD) DO UPDATE SET WRZ=excluded.WRZ, "
                        "WRQ=excluded.WRQ, GRZ=excluded.GRZ, OBHTZ=excluded.OBHTZ, "
                        "MODITIME=excluded.MODITIME"
                    ),
                    rv_rows,
                )
                cur.executemany(
                    self._sql(
                        "INSERT INTO ST_RSVRFCCH_B (STCD, DAMEL, CKFLZ, DSFLZ, NORMZ, DDZ, HHRZ, "
                        "MODITIME) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (STCD) DO UPDATE SET "
                        "DAMEL=excluded.DAMEL, CKFLZ=excluded.CKFLZ, DSFLZ=excluded.DSFLZ, "
                        "NORMZ=excluded.NORMZ, DDZ=excluded.DDZ, HHRZ=excluded.HHRZ, "
                        "MODITIME=excluded.MODITIME"
                    ),
                    rs_rows,
                )
                cur.executemany(
                    self._sql(
                        "INSERT INTO ST_RSVRFSR_B (STCD, BGMD, EDMD, FSLTDZ, MODITIME) "
                        "VALUES (?,?,?,?,?) ON CONFLICT (STCD, BGMD) DO UPDATE SET "
                        "EDMD=excluded.EDMD, FSLTDZ=excluded.FSLTDZ, MODITIME=excluded.MODITIME"
                    ),
                    fsr_rows,
                )
                self._conn.commit()
            except Exception as exc:
                self._conn.rollback()
                raise StoreError(
                    f"{self.where}: cannot write basin {basin.id} stations: {exc}"
                ) from exc
        for row in st_rows:
            self._kinds[row[0]] = row[8]
        self._plans.clear()

    def set_datum_correction(self, stcd: str, dtpr_m: float) -> None:
        """Record a station's datum correction DTPR (basin level = gauge level + DTPR)."""
        now = self._t(datetime.now(UTC))
        self._execute_many(
            "INSERT INTO ST_STBPRP_B (STCD, DTPR, MODITIME) VALUES (?,?,?) ON CONFLICT (STCD) "
            "DO UPDATE SET DTPR=excluded.DTPR, MODITIME=excluded.MODITIME",
            [(stcd, dtpr_m, now)],
        )

    def datum_offsets(self) -> dict[str, float]:
        """DTPR per station (stations without one are absent)."""
        return {
            s: float(v)
            for s, v in self._query("SELECT STCD, DTPR FROM ST_STBPRP_B WHERE DTPR IS NOT NULL")
        }

    def stations(self) -> list[StationRecord]:
        rows = self._query("SELECT STCD, STNM, STTP, DTPR FROM ST_STBPRP_B ORDER BY STCD")
        return [StationRecord(a, b or "", c or "", float(d or 0.0)) for a, b, c, d in rows]

    def _execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.executemany(self._sql(sql), rows)
                n = cur.rowcount
                self._conn.commit()
                return n
            except Exception as exc:
                self._conn.rollback()
                raise _store_error(self.where, "write failed", exc) from exc

    # -- observations --------------------------------------------------------------------------
    def add(self, observations: Iterable[Observation], received: datetime | None = None) -> int:
        """Store observations in ONE transaction; return how many were new.

        When this returns, the data are committed (durable): only then may a device be
        acknowledged. A repeated (station, time, element) changes nothing.
        """
        obs = list(observations)
        if not obs:
            return 0
        rcv_t = received or datetime.now(UTC)
        rcv = _ts_us(rcv_t) if self.dialect == "sqlite" else rcv_t.astimezone(UTC)
        times: dict[datetime, Any] = {}  # many observations share a time: format once
        canon = []
        groups: dict[str, list[tuple[Any, ...]]] = {}
        plans = self._plans
        kinds = self._kinds
        for o in obs:
            tm = times.get(o.time)
            if tm is None:
                tm = times[o.time] = self._t(o.time)
            canon.append((o.station, tm, o.element, o.value, o.unit, o.source, rcv))
            key = (o.element, kinds.get(o.station, ""))
            plan = plans.get(key, False)
            if plan is False:
                plan = plans[key] = self._sl323_plan(*key)
            if plan is not None:
                groups.setdefault(plan[0], []).append((o.station, tm, o.value, *plan[1]))
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.executemany(
                    self._sql(
                        "INSERT INTO HT_OBS_R (STCD, TM, ELEM, VAL, UNIT, SRC, RCVTM) "
                        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (STCD, TM, ELEM) DO NOTHING"
                    ),
                    canon,
                )
                new = cur.rowcount
                for sql, rows in groups.items():
                    cur.executemany(self._sql(sql), rows)
                spans = _rain_spans(obs)
                if spans:
                    cur.executemany(self._sql(_DERIVED_UPSERT), self._derive_rain(cur, spans))
                self._conn.commit()
            except Exception as exc:
                self._conn.rollback()
                raise _store_error(
                    self.where, f"cannot store {len(obs)} observations", exc
                ) from exc
        return max(int(new), 0)

    def _derive_rain(
        self, cur: Any, spans: dict[tuple[str, str], tuple[datetime, datetime]]
    ) -> list[tuple[Any, ...]]:
        """ST_PPTN_R rows for the PJ/PT reports of each (station, element) in its span
        [first, last] and the report after (its period changes when a late report lands
        before it); explicit P1…P12 (and PJ over PT) win. One query for the batch."""
        args: list[Any] = []
        for (stcd, elem), (t0, t1) in spans.items():
            args += (stcd, elem, self._t(t0), self._t(t1))
        cur.execute(self._sql(_DERIVE_SQL.format(",".join(["(?,?,?,?)"] * len(spans)))), args)
        found: dict[tuple[str, str], list[tuple[datetime, float, bool, Any]]] = {}
        for stcd, elem, t, v, x in cur.fetchall():
            found.setdefault((stcd, elem), []).append((_parse_ts(t), float(v), bool(x), t))
        rows: list[tuple[Any, ...]] = []
        for (stcd, elem), (t0, _) in spans.items():
            rows += _period_rows(stcd, elem, _parse_ts(self._t(t0)), found.get((stcd, elem), []))
        return rows

    def _sl323_plan(self, e: str, sttp: str) -> tuple[str, tuple[Any, ...]] | None:
        """(upsert SQL, constant trailing parameters) for an element at a station type."""
        if e in _RAIN_INTV:
            action = "DO UPDATE SET DRP=excluded.DRP, INTV=excluded.INTV"
            if e not in _HOURLY_OR_LONGER:  # a 5-minute value never overwrites an hourly one
                action = "DO NOTHING"
            return (
                "INSERT INTO ST_PPTN_R (STCD, TM, DRP, INTV) VALUES (?,?,?,?) "
                f"ON CONFLICT (STCD, TM) {action}",
                (_RAIN_INTV[e],),
            )
        if e == "PD":
            return _upsert("ST_PPTN_R", "DYP"), ()
        if sttp == "RR":
            col = {
                "ZU": "RZ",
                "Z": "RZ",
                "RZ": "RZ",
                "ZB": "BLRZ",
                "Q": "INQ",
                "INQ": "INQ",
                "QA": "OTQ",
                "OTQ": "OTQ",
            }.get(e)
            return (_upsert("ST_RSVR_R", col), ()) if col else None
        if sttp == "DD":
            if e == "GH":
                return _upsert("ST_GATE_R", "GTOPHGT", gate=True), ()
            if e == "GT":
                return _upsert("ST_GATE_R", "GTOPNUM", gate=True), ()
            if e == "QZ":
                return _upsert("ST_GATE_R", "GTQ", gate=True), ()
            col = {"ZU": "UPZ", "Z": "UPZ", "ZB": "DWZ", "QA": "TGTQ", "Q": "TGTQ"}.get(e)
            return (_upsert("ST_WAS_R", col), ()) if col else None
        if e == "ZU" and sttp == "":
            return _upsert("ST_RSVR_R", "RZ"), ()
        col = {"Z": "Z", "Q": "Q", "VA": "XSAVV"}.get(e)
        return (_upsert("ST_RIVER_R", col), ()) if col else None

    def series(
        self,
        stcd: str,
        element: str,
        start: datetime | None = None,
        end: datetime | None = None,
        basin_datum: bool = False,
    ) -> list[tuple[datetime, float]]:
        """Observed (time UTC, value) of one element, oldest first; levels optionally in the
        basin datum (gauge + DTPR)."""
        sql = "SELECT TM, VAL FROM HT_OBS_R WHERE STCD = ? AND ELEM = ?"
        params: list[Any] = [stcd, element]
        if start is not None:
            sql += " AND TM >= ?"
            params.append(self._t(start))
        if end is not None:
            sql += " AND TM <= ?"
            params.append(self._t(end))
        rows = self._query(sql + " ORDER BY TM", params)
        off = (
            self.datum_offsets().get(stcd, 0.0)
            if basin_datum and element in LEVEL_ELEMENTS
            else 0.0
        )
        return [(_parse_ts(t), float(v) + off) for t, v in rows]

    def latest_reservoir_levels(self) -> dict[str, tuple[datetime, float]]:
        """The latest ST_RSVR_R reading (time UTC, RZ m) per station, for the duty officer's
        "from its level now" (rain-holding capacity)."""
        rows = self._query(
            "SELECT r.STCD, r.TM, r.RZ FROM ST_RSVR_R r JOIN (SELECT STCD, MAX(TM) AS TM "
            "FROM ST_RSVR_R WHERE RZ IS NOT NULL GROUP BY STCD) m "
            "ON r.STCD = m.STCD AND r.TM = m.TM"
        )
        return {s: (_parse_ts(t), float(z)) for s, t, z in rows if z is not None}

    def count(self, table: str = "HT_OBS_R") -> int:
        if table not in {t[0] for t in _TABLES} | {"HT_QUARANTINE"}:
            raise StoreError(f"{self.where}: unknown table {table!r}")
        return int(self._query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def last_reports(self) -> dict[str, datetime]:
        """When each station last reported (latest receive time)."""
        rows = self._query("SELECT STCD, MAX(RCVTM) FROM HT_OBS_R GROUP BY STCD")
        return {s: _parse_ts(t) for s, t in rows if t is not None}

    def observations_since(
        self, received_after: datetime, limit: int = 10_000
    ) -> list[Observation]:
        """Observations received after a time (for polling readers such as the GUI bridge)."""
        rows = self._query(
            "SELECT STCD, TM, ELEM, VAL, UNIT, SRC FROM HT_OBS_R WHERE RCVTM > ? "
            "ORDER BY RCVTM, TM LIMIT ?",
            (_ts_us(received_after) if self.dialect == "sqlite" else received_after, limit),
        )
        return [
            Observation(s, _parse_ts(t), e, float(v), u or "", src or "")
            for s, t, e, v, u, src in rows
        ]

    def observations_between(self, start: datetime, end: datetime) -> list[Observation]:
        """Every observation with a time in ``[start, end]``, in time order (the window of a
        recorded event a historical replay plays again)."""
        rows = self._query(
            "SELECT STCD, TM, ELEM, VAL, UNIT, SRC FROM HT_OBS_R WHERE TM >= ? AND TM <= ? "
            "ORDER BY TM, STCD, ELEM",
            (self._t(start), self._t(end)),
        )
        return [
            Observation(s, _parse_ts(t), e, float(v), u or "", src or "")
            for s, t, e, v, u, src in rows
        ]

    # -- quarantine and alarms -----------------------------------------------------------------
    def add_quarantine(
        self, raw: bytes, reason: str, peer: str = "", received: datetime | None = None
    ) -> None:
        """Keep a rejected frame (hex, at most 8 KiB of it) with why it was rejected."""
        self._execute_many(
            "INSERT INTO HT_QUARANTINE (RCVTM, PEER, REASON, RAW) VALUES (?,?,?,?)",
            [
                (
                    self._t(received or datetime.now(UTC)),
                    peer,
                    reason[:500],
                    raw[:8192].hex().upper(),
                )
            ],
        )

    def quarantine(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT RCVTM, PEER, REASON, RAW FROM HT_QUARANTINE ORDER BY ID DESC LIMIT ?", (limit,)
        )
        return [{"received": _parse_ts(a), "peer": b, "reason": c, "raw": d} for a, b, c, d in rows]

    def add_alarms(self, events: Iterable[AlarmLike]) -> int:
        """Store alarm events (idempotent on station, time, kind, level, source)."""
        rows = [
            (
                e.station,
                self._t(e.time),
                e.kind,
                int(e.level),
                e.source,
                e.value,
                e.threshold,
                e.lead_time_s,
                self._t(e.issued_at) if e.issued_at else None,
                e.message,
            )
            for e in events
        ]
        if not rows:
            return 0
        return self._execute_many(
            "INSERT INTO HT_ALARM_R (STCD, TM, KIND, LVL, SRC, VAL, THRESHOLD, LEADS, ISSUETM, "
            "MSG) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (STCD, TM, KIND, LVL, SRC) DO NOTHING",
            rows,
        )

    def alarms(self, limit: int = 200) -> list[dict[str, Any]]:
        """Stored alarm events, newest first."""
        rows = self._query(
            "SELECT STCD, TM, KIND, LVL, SRC, VAL, THRESHOLD, LEADS, ISSUETM, MSG FROM HT_ALARM_R "
            "ORDER BY TM DESC, LVL DESC LIMIT ?",
            (limit,),
        )
        keys = (
            "station",
            "time",
            "kind",
            "level",
            "source",
            "value",
            "threshold",
            "lead_time_s",
            "issued_at",
            "message",
        )
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["time"] = _parse_ts(d["time"])
            d["issued_at"] = _parse_ts(d["issued_at"]) if d["issued_at"] else None
            out.append(d)
        return out


def _period_rows(
    stcd: str, elem: str, first: datetime, got: list[tuple[datetime, float, bool, Any]]
) -> list[tuple[Any, ...]]:
    """Derived rows of one station and element from its reports around a batch (``first``
    as stored): the one before ``first`` is the previous report, flagged times are taken."""
    prev = got[0][:2] if got and got[0][0] < first else None
    later = [g for g in got if g[0] >= first]
    stored = {g[0]: g[3] for g in later if not g[2]}  # times no explicit value holds
    points = [(t, v) for t, v, _, _ in later]
    return [
        (stcd, stored[t], drp, intv)
        for t, drp, intv in period_rain(elem, points, prev)
        if t in stored
    ]


def _rain_spans(obs: list[Observation]) -> dict[tuple[str, str], tuple[datetime, datetime]]:
    """(station, PJ/PT) -> (first, last) report time in a batch, in one pass."""
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for o in obs:
        if o.element in _DERIVED_RAIN:
            k = (o.station, o.element)
            t0, t1 = spans.get(k, (o.time, o.time))
            spans[k] = (min(t0, o.time), max(t1, o.time))
    return spans


def _upsert(table: str, col: str, gate: bool = False) -> str:
    if gate:
        return (
            f"INSERT INTO {table} (STCD, TM, EXKEY, {col}) VALUES (?,?,'0',?) "
            f"ON CONFLICT (STCD, TM, EXKEY) DO UPDATE SET {col}=excluded.{col}"
        )
    return (
        f"INSERT INTO {table} (STCD, TM, {col}) VALUES (?,?,?) "
        f"ON CONFLICT (STCD, TM) DO UPDATE SET {col}=excluded.{col}"
    )


def open_store(
    url: str | Path,
    synchronous: str = "FULL",
    *,
    new_store: bool = False,
    check: str | None = "quick",
) -> ObservationStore:
    """Open a store: a file path / ``sqlite:///path`` (SQLite, WAL) or ``postgresql://…``.

    SQLite runs in WAL mode with ``synchronous=FULL`` by default so that a committed (and
    therefore acknowledged) observation survives a crash of the process or the machine.
    A new store is created only where no file exists (or over a 0-byte file with
    ``new_store``); an existing file must pass ``quick_check`` (``check="full"``:
    ``integrity_check``; ``None``: no check) or a :class:`StoreDamagedError` says what to do.
    """
    u = str(url)
    if u.startswith(("postgresql://", "postgres://")):
        return _open_postgres(u)
    path = Path(u.removeprefix("sqlite:///")) if u.startswith("sqlite:///") else Path(u)
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise StoreError(f"synchronous={synchronous!r}; expected OFF, NORMAL, FULL or EXTRA")
    if check not in ("quick", "full", None):
        raise StoreError(f"check={check!r}; expected 'quick', 'full' or None")
    _refuse_empty(path, new_store)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sconn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        sconn.execute("PRAGMA busy_timeout=30000")
        sconn.execute("PRAGMA journal_mode=WAL")
        sconn.execute(f"PRAGMA synchronous={synchronous}")
        if check is not None:
            _refuse_damaged(sconn, path, check)
    except (sqlite3.Error, OSError) as exc:
        raise _store_error(str(path), "cannot open the SQLite store", exc) from exc
    return ObservationStore(sconn, "sqlite", str(path))


def _refuse_empty(path: Path, new_store: bool) -> None:
    if path.is_file() and path.stat().st_size == 0 and not new_store:
        raise StoreDamagedError(
            f"{path}: the store file is empty (0 bytes) where a store was expected (a failed "
            "copy or a full disk?); not starting an empty store over it. Restore it with "
            f"`hydrotwin store restore --from BACKUP --store {path}`, or pass --new-store to "
            "start an empty store deliberately"
        )


def _refuse_damaged(conn: sqlite3.Connection, path: Path, check: str) -> None:
    pragma = "integrity_check" if check == "full" else "quick_check"
    found = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
    if found != ["ok"]:
        conn.close()
        shown = "; ".join(found[:3]) + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")
        raise StoreDamagedError(
            f"{path}: {pragma} failed: {shown}; expected 'ok'. Not opening a damaged store: "
            + _DAMAGE_HINT.format(p=path)
        )


def _open_postgres(u: str) -> ObservationStore:
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            f"{u}: PostgreSQL needs psycopg 3 (pip install 'psycopg[binary]')"
        ) from exc
    try:
        conn = psycopg.connect(u, autocommit=False)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {u}: {exc}") from exc
    return ObservationStore(conn, "postgres", u)
