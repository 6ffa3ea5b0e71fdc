"""``hydrotwin store backup|check|restore`` through the CLI entry point: exit codes 0/1/2."""

from __future__ import annotations

import pytest

from hydrotwin.app.cli import main
from hydrotwin.live.store import open_store

from ..live.damage import garble_page, leaf_pages, make_store


@pytest.fixture
def db(tmp_path):
    p = tmp_path / "obs.db"
    make_store(p, 2000)
    return p


def test_backup_check_restore_ok(db, tmp_path, capsys):
    assert main(["store", "backup", "--store", str(db), "--to", str(tmp_path / "bk")]) == 0
    backup = capsys.readouterr().out.strip()
    assert backup.endswith(".db") and (tmp_path / "bk").exists()
    assert main(["store", "check", "--store", backup, "--full"]) == 0
    out = capsys.readouterr().out
    assert "integrity_check ok" in out and "observations: 2000" in out
    garble_page(db, leaf_pages(db)[3])
    assert main(["store", "check", "--store", str(db)]) == 1
    err = capsys.readouterr().err
    assert str(db) in err and "malformed" in err
    assert main(["store", "restore", "--from", backup, "--store", str(db)]) == 0
    assert "2000 observations" in capsys.readouterr().out
    with open_store(db, check="full") as s:
        assert s.count() == 2000


def test_check_missing_store_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["store", "check", "--store", str(missing)]) == 1
    assert "no such store file" in capsys.readouterr().err and not missing.exists()


def test_backup_errors(db, tmp_path, capsys):
    assert main(["store", "backup", "--store", str(tmp_path / "x.db"), "--to", "bk"]) == 1
    assert "x.db: no such store file" in capsys.readouterr().err
    assert main(["store", "backup", "--store", str(db), "--to", "bk", "--keep", "0"]) == 2
    assert "--keep" in capsys.readouterr().err


def test_restore_from_missing_backup(db, tmp_path, capsys):
    assert main(["store", "restore", "--from", str(tmp_path / "nope.db"), "--store", str(db)]) == 1
    assert "nope.db: no such store file" in capsys.readouterr().err
    with open_store(db) as s:
        assert s.count() == 2000  # untouched


def test_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["store"])
    assert e.value.code == 2


def test_zero_byte_store_refused_by_the_live_service(tmp_path, capsys):
    db = tmp_path / "obs.db"
    db.write_bytes(b"")
    event = tmp_path / "e.csv"
    event.write_text("station,time,element,value,unit\n60000001,2026-07-01T00:00:00Z,Z,9.5,m\n")
    assert main(["live", "replay", str(event), "--speed", "0", "--store", str(db)]) == 1
    assert "0 bytes" in capsys.readouterr().err and db.stat().st_size == 0
    assert not (tmp_path / "obs.db.writer").exists()  # a refused start leaves no lease
    assert main(["live", "replay", str(event), "--speed", "0", "--store", str(db),
                 "--new-store"]) == 0  # fmt: skip


def test_spool_of_a_past_outage_is_replayed_on_start(db, tmp_path, capsys):
    """A full disk took the store out of service; once freed, the next start puts what was
    acknowledged from the spool into the store."""
    from hydrotwin.live.pipeline import Pipeline
    from hydrotwin.live.spool import Spool

    from ..live.damage import T0, observations

    with open_store(db) as s:
        pipe = Pipeline(s, spool=Spool(tmp_path / "obs.db.spool"))
        pipe.mark_damaged("disk full")
        spooled = observations(300, t0=T0.replace(year=2027))
        pipe.commit(spooled)
    event = tmp_path / "e.csv"
    event.write_text("station,time,element,value,unit\n60000001,2026-07-01T00:00:00Z,Z,9.5,m\n")
    assert main(["live", "replay", str(event), "--speed", "0", "--store", str(db)]) == 0
    with open_store(db) as s:
        assert s.count() == 2000 + 300  # (the event's one observation was already stored)
        assert {o.key for o in spooled} <= {o.key for o in s.observations_since(T0, 10**6)}
    assert not (tmp_path / "obs.db.spool").exists()
    assert len(list(tmp_path.glob("obs.db.spool.replayed-*"))) == 1
