"""``hydrotwin duty`` and ``hydrotwin hindcast`` as processes: a replay (``hydrotwin live
replay``) drives the duty service through the store; kill -9 and restart lose no cycle."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from hydrotwin.app.cli import main
from hydrotwin.fourpre.duty import read_log
from hydrotwin.fourpre.hindcast import record_observations, write_biliu_basin
from hydrotwin.fourpre.session import TwinSession
from hydrotwin.live.source import ReplaySource

H = timedelta(hours=1)
DAY0 = datetime(2012, 8, 3, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path, shared_data):
    from hydrotwin.basin import load_manifest

    folder = write_biliu_basin(tmp_path / "biliu", 10.0)
    record = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"
    obs = record_observations(record, DAY0 - 240 * H, DAY0 + 24 * H)
    session = TwinSession(load_manifest(folder))
    session.open_store(str(tmp_path / "obs.db"))
    src = session.start_source(ReplaySource([o for o in obs if o.time <= DAY0], speed=0.0))
    assert src.wait(60.0)
    session.close()
    events = tmp_path / "day.csv"
    with events.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["station", "time", "element", "value", "unit"])
        for o in obs:
            if o.time > DAY0:
                w.writerow([o.station, o.time.isoformat(), o.element, o.value, o.unit])
    return folder, tmp_path / "obs.db", events


def _cli(*args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "hydrotwin.app.cli", *args]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _duty(folder, db, state) -> subprocess.Popen:
    return _cli("duty", "--basin", str(folder), "--store", str(db), "--state", str(state),
                "--every", "1h", "--horizon", "12h", "--clock", "data", "--spinup", "240h",
                "--poll", "0.2")  # fmt: skip


def _wait(cond, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _ok(state) -> list[dict]:
    return [r for r in read_log(state / "cycles.jsonl") if r["status"] == "ok"]


@pytest.mark.slow
def test_kill9_and_restart_lose_no_cycle_state(setup, tmp_path):
    folder, db, events = setup
    state = tmp_path / "duty"
    duty = _duty(folder, db, state)
    _wait(lambda: len(_ok(state)) >= 1, 120, "the cold-start cycle")
    replay = _cli("live", "replay", str(events), "--speed", "2400", "--store", str(db))
    _wait(lambda: len(_ok(state)) >= 5, 120, "five cycles")
    duty.send_signal(signal.SIGKILL)
    duty.wait(10)
    before = json.loads((state / "state.json").read_text())
    duty = _duty(folder, db, state)
    assert replay.wait(120) == 0, replay.stderr.read()
    last = (DAY0 + 24 * H).strftime("%Y-%m-%dT%H:%M:%SZ")
    _wait(lambda: json.loads((state / "state.json").read_text())["issue"] == last, 180,
          "the last hour of the day")  # fmt: skip
    duty.send_signal(signal.SIGTERM)
    duty.wait(30)
    ok = _ok(state)
    after = [r for r in ok if r["issue"] > before["issue"]]
    assert ok[0]["warm_start"] is False and all(r["warm_start"] for r in ok[1:])
    assert after and after[0]["warm_start"] is True  # resumed from the saved state, not cold
    # every hour of the day was either forecast or logged as skipped; none twice in the state
    done = {r["issue"] for r in ok}
    skipped = {t for r in read_log(state / "cycles.jsonl") if r["status"] == "skipped"
               for t in r["issues"]}  # fmt: skip
    hours = {(DAY0 + k * H).strftime("%Y-%m-%dT%H:%M:%SZ") for k in range(25)}
    assert hours <= done | skipped
    final = json.loads((state / "state.json").read_text())
    assert final["cycles"] == len(done) and final["cycles"] > before["cycles"]
    assert (state / "cycles" / "20120804T0000Z.nc").is_file()


def test_duty_exit_codes(tmp_path, capsys):
    folder = write_biliu_basin(tmp_path / "biliu")
    assert main(["duty", "--basin", str(folder), "--store", str(tmp_path / "no.db")]) == 1
    err = capsys.readouterr().err
    assert "no.db" in err and "not found" in err
    assert not (tmp_path / "no.db").exists()
    with pytest.raises(SystemExit) as exc:
        main(["duty", "--basin", str(folder), "--store", "x.db", "--every", "often"])
    assert exc.value.code == 2
    assert "'often': expected a duration" in capsys.readouterr().err


def test_once_runs_the_due_cycle(setup, tmp_path, capsys):
    folder, db, _ = setup
    args = ["duty", "--basin", str(folder), "--store", str(db), "--state", str(tmp_path / "d"),
            "--clock", "data", "--spinup", "240h", "--horizon", "6h", "--once"]  # fmt: skip
    assert main(args) == 0
    assert "cycle 2012-08-03T00:00:00+00:00 ok" in capsys.readouterr().out
    assert main(args) == 0  # nothing due: no cycle, still ok
    assert "cycle" not in capsys.readouterr().out


def test_hindcast_prints_the_lead_time_table(setup, tmp_path, capsys, shared_data):
    folder, _, _ = setup
    record = shared_data / "hydro" / "biliuhe_21401550" / "basin_21401550.csv"
    rc = main(["hindcast", "--basin", str(folder), "--record", str(record),
               "--from", "2012-08-03T00:00Z", "--to", "2012-08-04T00:00Z", "--every", "6h",
               "--horizon", "12h", "--workdir", str(tmp_path / "hc"), "--json"])  # fmt: skip
    assert rc == 1  # lead 24 and 48 h are beyond a 12 h horizon
    assert "lead 48 h is beyond the horizon 12.0 h" in capsys.readouterr().err
    rc = main(["hindcast", "--basin", str(folder), "--record", str(record),
               "--from", "2012-08-03T00:00Z", "--to", "2012-08-04T00:00Z", "--every", "6h",
               "--horizon", "12h", "--leads", "1,6",
               "--workdir", str(tmp_path / "hc2")])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0 and "station BL000002" in out
    rows = [ln for ln in out.splitlines() if ln.startswith(("| 1 |", "| 6 |"))]
    assert len(rows) == 2
