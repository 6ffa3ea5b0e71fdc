"""Ensembles on real Dask clusters: a ``dask scheduler`` and two ``dask worker`` processes
started here on 127.0.0.1, and a LocalCluster of processes.

- the same seed gives identical results on the LocalCluster and on the external cluster;
- ``hydrotwin ensemble --scheduler`` runs there, with a progress line;
- a worker killed with SIGKILL mid-run loses no member and the result equals the undisturbed
  run (Dask reruns its tasks; a member's draws depend only on its seed and index);
- a scheduler address that does not answer is a clear error within seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import xarray as xr

import hydrotwin
from hydrotwin.errors import InputDataError
from hydrotwin.fourpre.ensemble import connect, make_tasks, run_ensemble, run_member
from hydrotwin.fourpre.ensemble_members import Perturbation

pytestmark = pytest.mark.slow

START = datetime(2026, 7, 1, tzinfo=UTC)
PERT = Perturbation(depth_sigma=0.4, shift_h=2.0, spread_sigma=0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    import hydrotwin_demo_basin

    paths = [str(Path(m.__file__).parents[1]) for m in (hydrotwin, hydrotwin_demo_basin)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")])
    return env


def _tasks(basin, n: int):
    return make_tasks(basin, n, start=START, hours=24.0, perturbation=PERT, seed=11,
                      rehearse=True, cell_m=480.0)  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, demo_basin):
    """Scheduler + 2 workers (no nanny: a killed worker stays dead), warmed up (numba)."""
    from distributed import Client

    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    cwd = tmp_path_factory.mktemp("dask")
    common = dict(env=_env(), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **common)]  # fmt: skip
    workers = []
    for k in range(2):
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{k}"],
            **common,
        ))  # fmt: skip
    procs += workers
    try:
        client = Client(addr, timeout=60)
        client.wait_for_workers(2, timeout=120)
        client.run(run_member, _tasks(demo_basin, 1)[0])  # compile the kernels in both
        yield addr, client, workers
        client.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def undisturbed(cluster, demo_basin):
    _, client, _ = cluster
    return run_ensemble(client, demo_basin, _tasks(demo_basin, 8))


def test_local_cluster_and_external_cluster_give_identical_results(undisturbed, demo_basin):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as lc,
        Client(lc) as client,
    ):
        local = run_ensemble(client, demo_basin, _tasks(demo_basin, 8))
    assert local.members_completed.values.tolist() == [8]
    assert float(local.p_inundation.max()) > 0
    xr.testing.assert_identical(local, undisturbed)


def test_cli_runs_on_the_external_scheduler(cluster, demo_basin, tmp_path, capsys):
    from hydrotwin.app.cli import main

    addr, _, _ = cluster
    out = tmp_path / "ens.nc"
    code = main(["ensemble", "--basin", str(demo_basin.manifest_path), "--members", "6",
                 "--hours", "24", "--start", "2026-07-01T00:00Z", "--scheduler", addr,
                 "--out", str(out)])  # fmt: skip
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "6/6 members" in cap.err and "6/6 member runs completed" in cap.out
    with xr.open_dataset(out) as ds:
        assert ds.member_ok.values.tolist() == [[1] * 6]
        assert ds.attrs["members"] == 6


def test_a_worker_killed_mid_run_loses_no_member(cluster, demo_basin, undisturbed):
    _, client, workers = cluster
    victim = workers[1]
    killed_at: list[int] = []

    def progress(done: int, total: int, _elapsed: float) -> None:
        if not killed_at:
            os.kill(victim.pid, signal.SIGKILL)
            killed_at.append(done)

    ds = run_ensemble(client, demo_basin, _tasks(demo_basin, 8), progress=progress)
    assert killed_at == [1]
    assert victim.wait(timeout=10) == -signal.SIGKILL
    assert len(client.scheduler_info()["workers"]) == 1
    assert ds.members_completed.values.tolist() == [8]
    xr.testing.assert_identical(ds, undisturbed)


def test_a_scheduler_that_does_not_answer_is_a_clear_error_in_seconds(tmp_path, capsys):
    from hydrotwin.app.cli import main

    addr = f"tcp://127.0.0.1:{_free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(InputDataError, match=rf"scheduler '{addr}' did not answer within 2 s"):
        connect(addr, timeout_s=2.0)
    assert time.perf_counter() - t0 < 10.0
    t0 = time.perf_counter()
    code = main(["ensemble", "--basin", "demo", "--members", "2", "--hours", "6",
                 "--scheduler", addr, "--out", str(tmp_path / "x.nc")])  # fmt: skip
    assert code == 1
    assert time.perf_counter() - t0 < 20.0
    err = capsys.readouterr().err
    assert "did not answer" in err and addr in err
    assert not (tmp_path / "x.nc").exists()


def test_ctrl_c_cancels_the_run_and_closes_the_local_cluster(tmp_path):
    """SIGINT to ``hydrotwin ensemble`` (its own LocalCluster) mid-run: exit 130 within
    seconds, no output file, and no process of the cluster left behind."""
    mark = f"hydrotwin-test-{os.getpid()}-{time.monotonic_ns()}"
    out = tmp_path / "ens.nc"
    p = subprocess.Popen(
        [sys.executable, "-m", "hydrotwin", "ensemble", "--basin", "demo", "--members", "400",
         "--hours", "72", "--workers", "1", "--start", "2026-07-01T00:00Z", "--out", str(out)],
        env={**_env(), "HYDROTWIN_TEST_MARK": mark}, cwd=tmp_path, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = ""
        while "members" not in line:
            line = p.stderr.readline()
            assert line or p.poll() is None, "the command ended before its first progress line"
        t0 = time.perf_counter()
        p.send_signal(signal.SIGINT)
        err = p.stderr.read()
        assert p.wait(timeout=30) == 130, err
    finally:
        if p.poll() is None:
            p.kill()
    assert time.perf_counter() - t0 < 15.0
    assert "interrupted" in err
    assert not out.exists()
    time.sleep(1.0)
    assert _marked_processes(mark) == []


def _marked_processes(mark: str) -> list[int]:
    import psutil

    left = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("HYDROTWIN_TEST_MARK") == mark:
                left.append(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return left


def test_cli_members_from_a_file_with_one_invalid_member(cluster, demo_basin, tmp_path, capsys):
    """A member CSV on the CLI: every member of the file, none perturbed; the invalid one is
    listed on stderr with its reason and recorded; the exit code is 0."""
    from hydrotwin.app.cli import main
    from tests.fourpre.test_ensemble import _member_csv

    addr, _, _ = cluster
    csv, out = tmp_path / "members.csv", tmp_path / "ens.nc"
    _member_csv(demo_basin, csv, bad_member="m2")
    code = main(["ensemble", "--basin", str(demo_basin.manifest_path), "--rain", str(csv),
                 "--hours", "24", "--start", "2026-07-01T00:00Z", "--scheduler", addr,
                 "--out", str(out)])  # fmt: skip
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "member 2 (plan base) failed" in cap.err and "'m2'" in cap.err
    with xr.open_dataset(out) as ds:
        assert ds.member_ok.values.tolist() == [[1, 1, 0, 1]]
        assert (
            ds.attrs["perturbation"] == '{"depth_sigma": 0.0, "shift_h": 0.0, "spread_sigma": 0.0}'
        )
