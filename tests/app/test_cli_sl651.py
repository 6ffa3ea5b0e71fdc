"""``hydrotwin sl651 decode|encode|reply`` through the CLI entry point (in-process)."""

from __future__ import annotations

import csv
import json

import pytest

from hydrotwin.app.cli import main


def _hex(shared_data, fid):
    with open(shared_data / "sl651" / "hex_frames.tsv", encoding="utf-8") as fh:
        return next(r["hex"] for r in csv.DictReader(fh, delimiter="\t") if r["id"] == fid)


def test_decode_json(shared_data, capsys):
    assert main(["sl651", "decode", _hex(shared_data, "m21f_32")]) == 0
    out = json.loads(capsys.readouterr().out)
    # values confirmed by key-iot.com.cn/19285.html (SOURCES.md)
    assert out["station"] == "0010100001" and out["password"] == "A000" and out["serial"] == 12
    assert out["send_time"] == "2020-07-24T17:23:49" and out["station_class"] == "H"
    assert [(e["id"], e["value"]) for e in out["elements"]] == [
        ("PJ", 13.0),
        ("PN05", 4.0),
        ("Z", 0.55),
        ("VT", 12.68),
    ]


def test_decode_bad_crc_exit_1(shared_data, capsys):
    assert main(["sl651", "decode", _hex(shared_data, "hw_32_badcrc")]) == 1
    assert "CRC mismatch" in capsys.readouterr().err


def test_decode_multipacket_joined(shared_data, capsys):
    frames = [_hex(shared_data, f"yu_{i}") for i in range(24, 37)]
    assert main(["sl651", "decode", "--compact", *frames]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 14 and lines[-1]["message"]["elements"][0]["id"] == "PIC"


def test_encode_then_decode(capsys):
    assert (
        main(
            [
                "sl651",
                "encode",
                "--station",
                "0012345678",
                "--time",
                "2026-07-01T08:00",
                "-e",
                "Z=10.25",
                "-e",
                "PJ=M",
            ]
        )
        == 0
    )
    frame = capsys.readouterr().out.strip()
    assert main(["sl651", "decode", frame]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(e["id"], e["value"]) for e in out["elements"]] == [("Z", 10.25), ("PJ", None)]
    assert main(["sl651", "reply", frame, "--end", "esc"]) == 0
    reply = capsys.readouterr().out.strip()
    assert main(["sl651", "decode", reply]) == 0
    dec = json.loads(capsys.readouterr().out)
    assert (dec["direction"], dec["end"], dec["serial"]) == ("down", "ESC", 1)


@pytest.mark.parametrize(
    "args", [["sl651", "encode", "--station", "0012345678", "-e", "Z"], ["sl651", "decode", "ZZZ"]]
)
def test_errors_exit_1(args, capsys):
    assert main(args) == 1
    assert "error" in capsys.readouterr().err
