"""Size cap and least-recently-used pruning of the IFC tessellation cache."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from hydrotwin.basin import ifc_cache
from hydrotwin.basin.ifc import load_ifc


def _arrays(n_tri: int) -> dict[str, np.ndarray]:
    v = np.zeros((3 * n_tri, 3))
    return {
        "vertices": v,
        "triangles": np.arange(3 * n_tri, dtype=np.int32).reshape(-1, 3),
        "tri_element": np.zeros(n_tri, dtype=np.int32),
        "tri_rgba": np.zeros((n_tri, 4), dtype=np.uint8),
        "elem_vert_offsets": np.array([0, len(v)], dtype=np.int64),
        "elem_tri_offsets": np.array([0, n_tri], dtype=np.int64),
    }


META = {"elements": {"global_id": ["a"], "ifc_class": ["IfcWall"], "name": [""], "step_id": [1]}}


def _write(d, key, when, n_tri=1000):
    ifc_cache.save_entry(d, key, _arrays(n_tri), META, cap_bytes=1 << 40)
    for suffix in (".npz", ".json"):
        os.utime(d / f"{key}{suffix}", (when, when))


def _keys(d) -> set[str]:
    return {k for k, _, _ in ifc_cache.entries(d)}


def test_lru_eviction_on_write(tmp_path):
    d = tmp_path / "ifc"
    now = time.time()
    for i, key in enumerate(["old", "mid", "new"]):
        _write(d, key, now - 3000 + 1000 * i)
    size = {k: s for k, s, _ in ifc_cache.entries(d)}
    assert [k for k, _, _ in ifc_cache.entries(d)] == ["old", "mid", "new"]
    # A hit on "old" makes it the most recently used.
    assert ifc_cache.load_entry(d, "old") is not None
    assert [k for k, _, _ in ifc_cache.entries(d)] == ["mid", "new", "old"]
    # Room for three entries of this size: writing a fourth evicts exactly the LRU one.
    cap = size["old"] + size["mid"] + size["new"] + 100
    ifc_cache.save_entry(d, "fourth", _arrays(1000), META, cap_bytes=cap)
    assert _keys(d) == {"new", "old", "fourth"}
    assert sum(s for _, s, _ in ifc_cache.entries(d)) <= cap
    assert not (d / "mid.npz").exists() and not (d / "mid.json").exists()


def test_entry_just_written_is_kept_even_over_the_cap(tmp_path, caplog):
    d = tmp_path / "ifc"
    _write(d, "other", time.time() - 10)
    with caplog.at_level(logging.WARNING, logger="hydrotwin.basin.ifc_cache"):
        ifc_cache.save_entry(d, "big", _arrays(5000), META, cap_bytes=1000)
    assert _keys(d) == {"big"}
    assert any("exceeds the cap" in r.getMessage() for r in caplog.records)
    assert ifc_cache.load_entry(d, "big") is not None


def test_orphans_and_stale_temporaries_are_pruned(tmp_path):
    d = tmp_path / "ifc"
    _write(d, "keep", time.time())
    orphan = d / "cut.npz"  # a write killed before its .json
    orphan.write_bytes(b"x" * 50_000)
    old = time.time() - 2 * ifc_cache.STALE_TMP_S
    os.utime(orphan, (old, old))
    stale = d / ".keep.npz.abc.part"
    stale.write_bytes(b"partial")
    os.utime(stale, (old, old))
    fresh = d / ".other.npz.def.part"  # a write in progress right now
    fresh.write_bytes(b"partial")
    size_keep = {k: s for k, s, _ in ifc_cache.entries(d)}["keep"]
    assert ifc_cache.prune(d, size_keep + 10) == ["cut"]
    assert not orphan.exists() and not stale.exists() and fresh.exists()


def test_cap_from_environment(monkeypatch, caplog):
    monkeypatch.delenv("HYDROTWIN_IFC_CACHE_MAX_MB", raising=False)
    assert ifc_cache.max_bytes() == 2 * 1024**3
    monkeypatch.setenv("HYDROTWIN_IFC_CACHE_MAX_MB", "1.5")
    assert ifc_cache.max_bytes() == int(1.5 * 2**20)
    monkeypatch.setenv("HYDROTWIN_IFC_CACHE_MAX_MB", "lots")
    with caplog.at_level(logging.WARNING, logger="hydrotwin.basin.ifc_cache"):
        assert ifc_cache.max_bytes() == ifc_cache.DEFAULT_MAX_BYTES
    assert any("'lots'" in r.getMessage() for r in caplog.records)


def test_loader_prunes_its_cache(shared_data, tmp_path, monkeypatch):
    """With a cap below two models, loading a second model evicts the first; reopening the
    first then rebuilds it (a miss, not an error)."""
    a = shared_data / "ifc/ifc4/IfcOpenHouse_IFC4.ifc"
    b = shared_data / "ifc/ifc2x3/example.ifc"
    load_ifc(a, cache_dir=tmp_path)
    ((key_a, size_a, _),) = ifc_cache.entries(tmp_path / "ifc")
    monkeypatch.setenv("HYDROTWIN_IFC_CACHE_MAX_MB", str((size_a + 1) / 2**20))
    load_ifc(b, cache_dir=tmp_path)
    keys = _keys(tmp_path / "ifc")
    assert len(keys) == 1 and key_a not in keys
    assert not load_ifc(a, cache_dir=tmp_path).from_cache
    assert load_ifc(a, cache_dir=tmp_path).from_cache


def test_zero_cap_keeps_only_the_newest(tmp_path):
    d = tmp_path / "ifc"
    _write(d, "a", time.time() - 5)
    ifc_cache.save_entry(d, "b", _arrays(10), META, cap_bytes=0)
    assert _keys(d) == {"b"}


def test_entries_stay_private_and_round_trip(tmp_path):
    """The cache keeps its entries 0600 (ifc_cache.CACHE_FILE_MODE says why) whatever the
    umask, and what was written reads back."""
    old = os.umask(0o022)
    try:
        ifc_cache.save_entry(tmp_path, "k", _arrays(10), META, cap_bytes=1 << 40)
    finally:
        os.umask(old)
    for suffix in (".npz", ".json"):
        assert os.stat(tmp_path / f"k{suffix}").st_mode & 0o777 == 0o600
    arrays, meta = ifc_cache.load_entry(tmp_path, "k")
    np.testing.assert_array_equal(arrays["triangles"], _arrays(10)["triangles"])
    assert meta == META
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "k.npz"]
