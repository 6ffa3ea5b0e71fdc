"""``hydrotwin render``: a PNG off-screen with no display; errors give exit codes 1 and 2."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from hydrotwin.app.cli import main
from tests.scenes.logan import write_logan_toml


@pytest.fixture(scope="module")
def logan_toml(shared_data, tmp_path_factory):
    return write_logan_toml(shared_data, tmp_path_factory.mktemp("logan_cli"))


@pytest.mark.slow
def test_render_writes_a_png_of_the_requested_size(logan_toml, tmp_path, capsys):
    out = tmp_path / "shot.png"
    rc = main(["render", "--basin", str(logan_toml), "--out", str(out), "--size", "480x270"])
    assert rc == 0
    assert capsys.readouterr().out.strip() == str(out)
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (480, 270)
        px = np.asarray(im.convert("RGB")).reshape(-1, 3)
    # A terrain render has thousands of colours (a blank or failed render has a handful).
    assert len(np.unique(px, axis=0)) > 2000


@pytest.mark.slow
def test_render_runs_in_a_fresh_process_without_display(logan_toml, tmp_path):
    out = tmp_path / "cold.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("VTK_DEFAULT_OPENGL_WINDOW", None)  # the render module must choose EGL itself
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hydrotwin",
            "render",
            "--basin",
            str(logan_toml),
            "--out",
            str(out),
            "--size",
            "320x180",
            "--lang",
            "en",
            "--no-labels",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000


def test_bad_size_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "--basin", "demo", "--out", str(tmp_path / "x.png"), "--size", "big"])
    assert exc.value.code == 2
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err


def test_unknown_basin_is_an_error_with_a_message(tmp_path, capsys):
    rc = main(
        [
            "render",
            "--basin",
            str(tmp_path / "nowhere" / "basin.toml"),
            "--out",
            str(tmp_path / "x.png"),
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "hydrotwin render: error:" in err and "basin.toml" in err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--max-cells", "2", "expected at least 4 cells"), ("--exaggeration", "0", "> 0")],
)
def test_bad_numbers_are_usage_errors(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exc:
        main(["render", "--out", str(tmp_path / "x.png"), flag, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
