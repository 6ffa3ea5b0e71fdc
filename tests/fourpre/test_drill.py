"""Scripted drills: the runner pauses the real clock at each event of the demo scenario plus
drill events, emits the prompt, holds while the trainer reads it, and plays on after
``continue_``; stepping back re-arms an event; closing removes the listener."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import hydrotwin_demo_basin

from hydrotwin.fourpre.clock import Clock
from hydrotwin.fourpre.drill import DrillRunner
from hydrotwin.fourpre.scenario import parse_scenario

DEMO = Path(hydrotwin_demo_basin.__file__).parent / "scenarios" / "qingxi_100yr.toml"


def _scenario():
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["drill"] = [
        {"time_h": 1.0, "kind": "breach", "breach": "levee_town", "prompt": "青溪镇堤防溃口"},
        {"time_h": 0.5, "kind": "gauge_silent", "station": "61612500", "prompt": "青溪镇站中断"},
        {"time_h": 2.0, "kind": "grade", "grade": "orange", "prompt": "橙色预警"},
    ]
    return parse_scenario(data, DEMO)


def test_runner_pauses_at_each_event_until_continue():
    sc = _scenario()
    clock = Clock(start=sc.start, end=sc.start + timedelta(hours=3))
    base = clock.listener_count
    runner = DrillRunner(clock, sc)
    prompts = []
    done = []
    runner.prompt.connect(prompts.append)
    runner.finished.connect(lambda: done.append(True))
    clock.set_speed(60.0)  # one simulated minute per wall second
    clock.play()
    for _ in range(40):
        clock.tick(1.0)
    assert [p.prompt for p in prompts] == ["青溪镇站中断"]  # the earliest first
    assert not clock.playing and clock.now == sc.start + timedelta(minutes=30)
    for _ in range(10):  # paused: the clock holds while the trainer reads
        clock.tick(1.0)
    assert clock.now == sc.start + timedelta(minutes=30)
    runner.continue_()
    assert clock.playing
    for _ in range(200):
        clock.tick(1.0)
    assert [p.kind for p in prompts] == ["gauge_silent", "breach"]
    assert clock.now == sc.start + timedelta(hours=1)
    clock.step(-2 * 3600)  # back to the start: both events come again
    runner.continue_()  # not waiting any more: nothing happens
    assert runner.next_index == 0 and runner.waiting is None
    clock.play()
    for _ in range(31):
        clock.tick(1.0)
    assert prompts[-1].kind == "gauge_silent"
    runner.continue_()
    clock.step(2 * 3600)  # a jump past the rest (to 2.5 h): they come one at a time
    assert prompts[-1].kind == "breach"
    runner.continue_()  # the next is already passed: at once
    assert prompts[-1].kind == "grade" and not done and not clock.playing
    runner.continue_()
    assert done == [True]
    runner.close()
    assert clock.listener_count == base
