"""The kernels' origin: it forks each worker's kernel fork server, which serves kernels that see
none of the worker's files, and it never outlives the batch that started it."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from test_isolation import LIST_FDS, notebook

from valuelib.render.kernels import forkserver, origin

#: A worker as the pool makes one, but a plain process: it holds a file and a pipe open, is
#: told where the origin is, runs a notebook that lists the kernel's open files, and reports.
WORKER = '''
import json, os, sys, tempfile
from valuelib.render.kernels import forkserver
from valuelib.render.execute import execute
secret = open(os.path.join(sys.argv[2], "worker-secret.txt"), "w")
r, w = os.pipe()
pipe = os.readlink(f"/proc/self/fd/{r}")
forkserver.use_origin(sys.argv[1])
server = forkserver.get_server()
info = server.wait_ready()
with tempfile.TemporaryDirectory() as cwd:
    ex = execute(sys.argv[3], {"account_id": "ACC-ORIGIN"}, cwd=cwd)
text = "".join(o.get("text", "") for c in ex.nb.cells for o in c.get("outputs", []))
import psutil
print(json.dumps({"forked": info["forked_preloaded"], "error": str(ex.error or ""),
                  "server_parent": psutil.Process(server.pid).ppid(),
                  "worker_has_pandas": "pandas" in sys.modules,
                  "pipe": pipe, "kernel_output": text}))
'''


def _wait_gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def kernels_origin():
    o = origin.Origin()
    assert o.start() is not None
    yield o
    o.stop()


def test_a_worker_runs_its_notebooks_in_kernels_forked_from_the_origin(kernels_origin, tmp_path):
    nb_path = notebook(tmp_path / "fds.ipynb", LIST_FDS)
    done = subprocess.run([sys.executable, "-c", WORKER, kernels_origin.path, str(tmp_path),
                           str(nb_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["error"] == "" and got["forked"] is True
    assert got["server_parent"] == kernels_origin.pid
    assert got["worker_has_pandas"] is False, "the kernels' imports are the origin's"
    assert "kernel.log" in got["kernel_output"], "the listing ran in the kernel"
    assert "worker-secret.txt" not in got["kernel_output"]
    assert got["pipe"] not in got["kernel_output"]
    assert "origin.sock" not in got["kernel_output"]


GC_STATE = 'import gc\nprint("collector", gc.isenabled(), gc.get_freeze_count() > 100_000)\n'


def test_kernels_collect_garbage_and_find_the_origins_heap_frozen(kernels_origin, tmp_path):
    """The origin imports with the collector off (`origin.preloading`); its kernels run with
    it on, and what the origin imported is frozen, out of their collections."""
    nb_path = notebook(tmp_path / "gc.ipynb", GC_STATE)
    done = subprocess.run([sys.executable, "-c", WORKER, kernels_origin.path, str(tmp_path),
                           str(nb_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["error"] == ""
    assert "collector True True" in got["kernel_output"]


def test_preloading_turns_the_collector_off_then_freezes_and_turns_it_on():
    import gc

    before = gc.get_freeze_count()
    try:
        with origin.preloading():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
    finally:
        gc.unfreeze()


def test_the_origin_socket_is_in_a_folder_only_its_user_can_enter(kernels_origin):
    folder = Path(kernels_origin.path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert folder.stat().st_uid == os.getuid()


def test_the_origin_leaves_with_its_batch_even_a_killed_one(tmp_path):
    """`Origin.stop` ends it and removes its folder; a batch killed with SIGKILL closes its
    pipe, and the origin leaves too (while still preloading or after)."""
    o = origin.Origin()
    path = o.start()
    pid = o.pid
    assert path is not None and pid is not None
    o.stop()
    assert _wait_gone(pid, 5)
    assert not Path(path).parent.exists()

    batch = subprocess.Popen([sys.executable, "-c",
                              "import sys, time\n"
                              "from valuelib.render.kernels import origin\n"
                              "o = origin.Origin(); o.start(); print(o.pid, o.path, flush=True)\n"
                              "time.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
    child, socket_path = batch.stdout.readline().split()
    assert psutil.pid_exists(int(child))
    batch.kill()
    batch.wait()
    assert _wait_gone(int(child)), "the origin outlived its batch"
    assert not Path(socket_path).parent.exists(), "the killed batch's origin left its folder"


def test_a_worker_whose_origin_is_gone_starts_its_own_fork_server(tmp_path, caplog):
    server = forkserver.ForkServer()
    try:
        with caplog.at_level(logging.WARNING):
            server.start(origin=str(tmp_path / "gone" / origin.SOCKET_NAME))
            ready = server.wait_ready()
        assert ready["ready"] and ready["forked_preloaded"] is False
        assert psutil.Process(server.pid).ppid() == os.getpid()
        assert "this worker starts its own kernel fork server" in caplog.text
    finally:
        server.stop()
