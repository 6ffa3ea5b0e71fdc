"""Shared helpers for the live tests: a small basin, free ports, a PostgreSQL server."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from hydrotwin.basin import parse_manifest

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_basin(tmp_path: Path, n_river: int = 3):
    """A basin with river stations 0000000i (addresses 00000000i0-style), one reservoir station
    and one gate, thresholds set; no data files are needed by the live layer."""
    stations = []
    for i in range(1, n_river + 1):
        stations.append(
            {
                "id": f"6000000{i}",
                "names": {"zh": f"河道站{i}", "en": f"River {i}"},
                "kind": "river",
                "x": 1000.0 * i,
                "y": 0.0,
                "reach": "r1",
                "datum_offset_m": 0.0 if i != 2 else 1.5,
                "sl651_address": f"006000000{i}",
                "sl651_password": "1234",
                "thresholds": {
                    "warning_m": 10.0,
                    "guaranteed_m": 12.0,
                    "historical_max_m": 13.0,
                    "approach_margin_m": 0.5,
                    "rise_rate_m_per_h": 0.5,
                },
            }
        )
    stations.append(
        {
            "id": "70000001",
            "names": {"zh": "水库站", "en": "Reservoir"},
            "kind": "reservoir",
            "x": 0.0,
            "y": 0.0,
            "reservoir": "res1",
            "sl651_address": "0070000001",
            "sl651_password": "ABCD",
        }
    )
    data = {
        "basin": {
            "id": "tiny",
            "names": {"zh": "小流域", "en": "Tiny"},
            "crs": "EPSG:4547",
            "dem": "dem.tif",
        },
        "rivers": {"file": "rivers.gpkg", "reaches": [{"id": "r1", "k_h": 2.0, "x": 0.2}]},
        "subbasins": [
            {
                "id": "s1",
                "names": {"zh": "子流域", "en": "S1"},
                "area_km2": 10.0,
                "outlet_reach": "r1",
                "xaj": {
                    "K": 0.9,
                    "WUM": 20,
                    "WLM": 70,
                    "WDM": 60,
                    "C": 0.15,
                    "B": 0.3,
                    "IM": 0.02,
                    "SM": 30,
                    "EX": 1.2,
                    "KI": 0.4,
                    "KG": 0.3,
                    "CS": 0.8,
                    "L": 1,
                    "CI": 0.8,
                    "CG": 0.98,
                },
            }
        ],
        "stations": stations,
        "reservoirs": [
            {
                "id": "res1",
                "names": {"zh": "水库", "en": "Res"},
                "reach": "r1",
                "curve": {
                    "level_m": [100.0, 110.0, 120.0, 130.0],
                    "storage_m3": [0.0, 1e6, 3e6, 6e6],
                },
                "levels": {
                    "dead_m": 102.0,
                    "flood_limit_m": 115.0,
                    "normal_m": 118.0,
                    "design_flood_m": 124.0,
                    "check_flood_m": 126.0,
                    "dam_crest_m": 130.0,
                },
                "spillway": {"crest_m": 118.0, "width_m": 20.0},
                "dam_x": 0.0,
                "dam_y": 0.0,
            }
        ],
    }
    return parse_manifest(data, tmp_path / "basin.toml")


def pg_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    return None


class PostgresServer:
    """initdb + pg_ctl into a temp folder, on a free loopback port (as user postgres if root)."""

    def __init__(self, base: Path) -> None:
        self.bin = pg_bin()
        self.user = None if os.geteuid() != 0 else "postgres"
        if self.user:
            # PostgreSQL refuses to run as root; user postgres cannot enter pytest's 0700
            # root-owned temp folder, so the cluster goes to its own temp folder (removed on stop)
            base = Path(tempfile.mkdtemp(prefix="hydrotwin-pg-"))
        self.base = base
        self.port = free_port()
        self.data = base / "pgdata"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, timeout=timeout, text=True)
        if res.returncode:
            raise RuntimeError(
                f"{' '.join(args[:1])} failed ({res.returncode}): {res.stderr[-500:]}"
            )

    def start(self) -> str:
        self.base.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.base, self.user)
            os.chmod(self.base, 0o700)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "ht", "--no-sync")
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "30",
            "-l",
            str(self.base / "log"),
            "-o",
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        return f"postgresql://ht@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
        except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
            log.warning("stopping the test PostgreSQL server: %s", exc)
        if self.user:
            shutil.rmtree(self.base, ignore_errors=True)


def start_open_receiver(port: int, db, timeout_s: float = 30.0) -> subprocess.Popen:
    """``hydrotwin live sl651 --allow-any-station`` as its own process, returned once it has
    printed that it listens (the tests that kill it or read its memory need a real process)."""
    import select
    import sys

    import pytest

    proc = subprocess.Popen(
        [sys.executable, "-m", "hydrotwin.app.cli", "live", "sl651", "--listen",
         f"127.0.0.1:{port}", "--store", str(db), "--allow-any-station"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    if not ready:
        proc.kill()
        pytest.fail(f"receiver did not print 'listening on' within {timeout_s:.0f} s")
    line = proc.stdout.readline()  # "listening on …" once the port is bound
    assert "listening on" in line, f"receiver did not start: {line!r}"
    return proc
