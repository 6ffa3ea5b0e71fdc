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
