"""The one atomic writer (hydrotwin/files.py): final files get the mode a plain ``open()``
would give under the umask (not mkstemp's 0600), a failed write leaves nothing under the final
name and the previous file intact, and the streaming form (PendingFile) follows the same rule."""

from __future__ import annotations

import os
import stat

import pytest

from hydrotwin.files import PARTIAL_GLOB, PendingFile, atomic_path, atomic_write_text


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_users_normal_mode(tmp_path, umask, mask, expected):
    umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives: the reference
    assert _mode(plain) == expected
    assert _mode(atomic_write_text(tmp_path / "a.txt", "x")) == expected
    pending = PendingFile(tmp_path / "b.nc")
    pending.tmp.write_bytes(b"frames")
    assert _mode(pending.commit()) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.nc", "plain.txt"]


def test_an_explicit_mode_wins(tmp_path, umask):
    assert _mode(atomic_write_text(tmp_path / "a.txt", "x", mode=0o600)) == 0o600


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "result.nc"
    target.write_text("previous run")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "previous run"
    assert list(tmp_path.glob(PARTIAL_GLOB)) == []
    assert [p.name for p in tmp_path.iterdir()] == ["result.nc"]


def test_pending_file_discard_and_temporary_name(tmp_path):
    pending = PendingFile(tmp_path / "sub" / "rehearsal.nc")
    assert pending.tmp.parent == tmp_path / "sub"  # same folder: the rename is atomic
    assert list((tmp_path / "sub").glob(PARTIAL_GLOB)) == [pending.tmp]
    pending.tmp.write_bytes(b"half")
    pending.discard()
    pending.discard()  # harmless twice (abort after a failed close)
    assert list((tmp_path / "sub").iterdir()) == []
