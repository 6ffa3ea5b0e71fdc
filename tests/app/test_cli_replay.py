"""``hydrotwin replay`` end to end: a capture replayed ×N into a new store with forecasts."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta

import tomli_w

from hydrotwin.app.cli import main
from hydrotwin.fourpre.hindcast import OUTLET_ID, RAIN_ID, write_biliu_basin
from hydrotwin.live import sl651
from hydrotwin.live.capture import write_capture
from hydrotwin.live.store import open_store

T0 = datetime(2012, 8, 3, 12, tzinfo=UTC)


def _basin(tmp_path):
    folder = write_biliu_basin(tmp_path / "biliu", 10.0)
    data = tomllib.loads((folder / "basin.toml").read_text(encoding="utf-8"))
    for st, addr in zip(data["stations"], ("0012000001", "0012000002"), strict=True):
        st.update(sl651_address=addr, sl651_password="1234")
    (folder / "basin.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    return folder


def _capture(tmp_path):
    frames = []
    for k in range(4):
        local = (T0 + timedelta(hours=k + 8)).replace(tzinfo=None)  # Beijing time
        for addr, els in (("0012000001", [("P1", 2.5)]), ("0012000002", [("Q", 300.0 + k)])):
            raw = sl651.encode_report(station=addr, password="1234", serial=k + 1,
                                      send_time=local, obs_time=local, elements=els)  # fmt: skip
            frames.append((T0 + timedelta(hours=k, seconds=5), raw))
    return write_capture(tmp_path / "ev.sl651", frames)


def test_cli_replay_capture_with_forecast(tmp_path, capsys):
    basin, cap, db = _basin(tmp_path), _capture(tmp_path), tmp_path / "class.db"
    args = ["replay", "--basin", str(basin / "basin.toml"), "--capture", str(cap)]
    code = main([*args, "--store", str(db), "--speed", "7200", "--forecast", "--horizon", "6h"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "delivered 8 item(s)" in out.out and "skipped" in out.out
    with open_store(db) as s:
        assert s.count() == 8
        assert [v for _, v in s.series(OUTLET_ID, "Q")] == [300.0, 301.0, 302.0, 303.0]
        assert len(s.series(RAIN_ID, "P1")) == 4
    assert (tmp_path / "class.db.duty" / "state.json").is_file()


def test_cli_replay_usage_and_errors(tmp_path, capsys):
    basin = str(_basin(tmp_path) / "basin.toml")
    db = str(tmp_path / "x.db")
    assert main(["replay", "--basin", basin, "--from-store", db, "--store", db]) == 2
    assert "--from-store needs --from and --to" in capsys.readouterr().err
    assert main(["replay", "--basin", basin, "--capture", str(tmp_path / "no.sl651"),
                 "--store", db]) == 1  # fmt: skip
    assert "no.sl651: not found" in capsys.readouterr().err
    assert main(["replay", "--basin", basin, "--capture", "x", "--store", db,
                 "--speed", "0"]) == 2  # fmt: skip


def test_cli_replay_from_a_scenario_file(tmp_path, capsys):
    basin, cap, db = _basin(tmp_path), _capture(tmp_path), tmp_path / "class.db"
    sc = tmp_path / "replay.toml"
    sc.write_text(f"""title = "碧流河 2012-08 洪水重演"
basin = "{basin / "basin.toml"}"
start = 2012-08-03T20:00:00+08:00
horizon_h = 6.0

[replay]
capture = "{cap.name}"
speed = 7200.0
every_h = 1.0
""", encoding="utf-8")  # fmt: skip
    assert main(["replay", "--scenario", str(sc), "--store", str(db)]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "at ×7200" in out and "delivered 8 item(s)" in out
    ran, skipped = map(int, re.search(r"(\d+) forecast cycle\(s\), (\d+) skipped", out).groups())
    assert ran + skipped == 4 and ran >= 2  # hours 12–15 UTC of the event, simulated time
    with open_store(db) as s:
        assert s.count() == 8
    sc.write_text(sc.read_text(encoding="utf-8").replace(cap.name, "missing.sl651"),
                  encoding="utf-8")  # fmt: skip
    assert main(["replay", "--scenario", str(sc), "--store", str(db)]) == 1
    assert "replay.capture: 'missing.sl651' not found" in capsys.readouterr().err
