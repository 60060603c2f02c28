"""The kernels' origin: one process per batch that preloads what a kernel imports and forks
each pool worker's kernel fork server on request.

A kernel fork server forked from its worker (`forkserver.ForkServer.start(from_self=True)`)
needs that worker to have preloaded the kernels' imports too, so the batch's preloading
process (`batch.preload`) did both halves one after the other, on one core, while the other
core waited. With an origin the halves run side by side: the preloading process imports what
a worker needs (papermill, nbconvert, the exporters) and the origin what a kernel needs
(pandas, matplotlib, IPython, the notebooks' imports, the chart caches). Before its first
task a worker asks the origin for its fork server (`ForkServer.start(origin=...)`). The origin
runs no notebook code and never receives an account's data, so each server it forks starts
from the same never-used state; the server then serves its worker alone, as before, and ends
when its worker's socket closes.

Protocol: the origin listens on an ``AF_UNIX`` stream socket in a private folder of the
batch (``origin.sock``). A worker connects and sends one byte carrying one end of a
``SOCK_SEQPACKET`` pair; the origin forks, the child becomes a fork server on that end
(preloaded), and the origin replies with the child's pid and a pidfd for it. It answers only
peers of its own user. It leaves when its standard input, a pipe from the batch, reaches end
of file, so it never outlives the batch, even one killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any, NoReturn

from valuelib.render import tempdirs

SOCKET_NAME = "origin.sock"
#: How deep the origin's socket lies under the temporary folder.
SOCKET_DEPTH = len("/vr-k-XXXXXXXX/") + len(SOCKET_NAME)
_REQUEST = b"s"


class OriginError(RuntimeError):
    """The origin could not be asked, or did not answer."""


@contextlib.contextmanager
def preloading() -> Iterator[None]:
    """Around the imports of a process that others are forked from (the origin's, the
    workers' preloading process's), as Python's documentation of `gc.freeze` advises: the
    cyclic garbage collector off meanwhile (its passes over the growing heap were a sixth of
    the imports' CPU), then everything made frozen, out of the forks' collections (fewer
    copied pages), and the collector on again for the forks. What the imports left as garbage
    stays, shared by the forks and never written."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def start_interpreter(code: str, fd: int, *, stdin: Any = subprocess.DEVNULL
                      ) -> subprocess.Popen[bytes]:
    """A new interpreter that runs `code` with socket `fd`, as a process kernels come from
    starts (the origin, a fork server of its own): -Xfrozen_modules=off as in ipykernel's
    kernelspec (debuggers need it, and debugpy warns without it), in a session of its own (a
    terminal's Ctrl-C is the batch's), from the root folder."""
    return subprocess.Popen([sys.executable, "-Xfrozen_modules=off", "-c", code],
                            pass_fds=(fd,), stdin=stdin, cwd=os.path.abspath(os.sep),
                            start_new_session=True)


# --------------------------------------------------------------------------------------------
# Origin side: runs in the origin's own interpreter (`python -c "...; serve(fd)"`).
# --------------------------------------------------------------------------------------------


def _batch_gone() -> bool:
    """Whether the batch has closed its end of this process's standard input."""
    readable, _, _ = select.select([0], [], [], 0)
    return bool(readable) and not os.read(0, 1)


#: The origin's own folder (its socket's), once it serves.
_folder: str | None = None


def _leave(code: int = 0) -> NoReturn:
    """Remove this origin's socket and folder (the batch removes them too, unless it was
    killed with SIGKILL) and exit, without tearing the interpreter down."""
    if _folder is not None:
        Origin._remove(_folder)
    os._exit(code)


def _leave_if_batch_gone() -> None:
    if _batch_gone():
        _leave()


def _reap(*_: Any) -> None:
    """Collect every fork server that has exited (SIGCHLD), so none stays a zombie."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _answer(listener: socket.socket) -> None:
    """Fork a fork server for the worker that connected, and tell it the server's pid."""
    from valuelib.render.kernels import forkserver

    conn, _ = listener.accept()
    with conn:
        conn.settimeout(5)
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                return  # not the batch's user: no answer at all
            _, fds, _, _ = socket.recv_fds(conn, 16, 1)
        except OSError:
            return
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return
        fd = fds[0]
        try:
            problem = forkserver.fork_safety_problem()
            if problem is not None:  # never expected: the origin starts nothing
                conn.sendall(json.dumps({"error": f"origin cannot fork: {problem}"}).encode())
                return
            # SIGCHLD held until the pidfd exists: a server that died at once is then not
            # reaped (and its pid free for another process) before it is opened.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
            try:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    conn.close()
                    listener.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                    forkserver._become_forked_server(fd)  # never returns
                pidfd = os.pidfd_open(pid)
            finally:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            try:
                socket.send_fds(conn, [json.dumps({"pid": pid}).encode()], [pidfd])
            except OSError:  # the worker went away: its server sees its socket close
                pass
            finally:
                os.close(pidfd)
        finally:
            os.close(fd)


def serve(listener_fd: int) -> None:
    """Entry point of the origin: preload what kernels import, then fork a fork server for
    each worker that asks, until the batch closes this process's standard input."""
    # Like ipykernel_launcher: the launch directory is not an import location.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's; we follow its end
    signal.signal(signal.SIGTERM, lambda *_: _leave())
    listener = socket.socket(fileno=listener_fd)
    global _folder
    _folder = os.path.dirname(listener.getsockname())
    from valuelib.render.kernels import forkserver

    try:
        with preloading():
            forkserver.preload(between=_leave_if_batch_gone)
    except Exception as exc:  # noqa: BLE001 - workers then start fork servers of their own
        print(f"valuereview: preloading kernels failed ({type(exc).__name__}: {exc}); each "
              "worker will start its own", file=sys.stderr)
        _leave(1)
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        readable, _, _ = select.select([0, listener], [], [])
        if 0 in readable and _batch_gone():
            _leave()
        if listener in readable:
            with contextlib.suppress(OSError):
                _answer(listener)


# --------------------------------------------------------------------------------------------
# Batch side: starts and stops the origin.
# --------------------------------------------------------------------------------------------


class Origin:
    """The batch's handle on its origin process: start it, tell workers where it is, stop it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None

    @property
    def path(self) -> str | None:
        """The origin's socket, while the origin runs."""
        if self._proc is None or self._proc.poll() is not None or self._folder is None:
            return None
        return os.path.join(self._folder, SOCKET_NAME)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> str | None:
        """Start the origin (once: again only if it has exited); its socket's path, or None
        if it cannot start (the workers then preload kernels themselves)."""
        if self.path is not None:
            return self.path
        self.stop()
        folder = tempfile.mkdtemp(prefix="vr-k-", dir=tempdirs.socket_root(SOCKET_DEPTH))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(os.path.join(folder, SOCKET_NAME))
            listener.listen(64)
            code = ("from valuelib.render.kernels.origin import serve; "
                    f"serve({listener.fileno()})")
            # Its stdin is our pipe: closed when the batch ends (a Ctrl-C included).
            self._proc = start_interpreter(code, listener.fileno(), stdin=subprocess.PIPE)
        except OSError:
            self._remove(folder)
            return None
        finally:
            listener.close()
        self._folder = folder
        return self.path

    def stop(self, timeout: float = 0.2) -> None:
        """Close the origin's pipe (it leaves), reap it and remove its folder. One still
        importing leaves at its next module; not waited for longer than `timeout` seconds, it
        is killed: it holds nothing (the fork servers it made are processes of their own)."""
        proc, self._proc = self._proc, None
        folder, self._folder = self._folder, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if folder is not None:
            self._remove(folder)

    @staticmethod
    def _remove(folder: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, SOCKET_NAME))
        with contextlib.suppress(OSError):
            os.rmdir(folder)


# --------------------------------------------------------------------------------------------
# Worker side: asks for a fork server.
# --------------------------------------------------------------------------------------------


def request_server(path: str, fd: int, timeout: float) -> tuple[int, int]:
    """Ask the origin listening at `path` for a fork server on socket `fd` (the server's end
    of the worker's pair); returns the server's pid and a pidfd for it. Waits while the
    origin is still preloading, up to `timeout` seconds."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(path)
            socket.send_fds(conn, [_REQUEST], [fd])
            data, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        except OSError as exc:
            raise OriginError(f"the kernels' origin did not answer ({exc})") from None
    try:
        reply = json.loads(data) if data else {}
    except ValueError:
        reply = {}
    if "pid" not in reply or len(fds) != 1:
        for got in fds:
            os.close(got)
        raise OriginError(reply.get("error") or "the kernels' origin closed the connection")
    return int(reply["pid"]), fds[0]


class AdoptedServer:
    """The parts of `subprocess.Popen` that `ForkServer` uses, for a fork server the origin
    forked: not this process's child, so it is watched and killed through a pidfd, and its
    exit code is not known here (-1)."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd: int | None = pidfd
        self.returncode: int | None = None

    def _exited(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        assert self._pidfd is not None
        readable, _, _ = select.select([self._pidfd], [], [], timeout)
        if readable:
            self.returncode = -1
            os.close(self._pidfd)
            self._pidfd = None
        return self.returncode is not None

    def poll(self) -> int | None:
        self._exited(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited(timeout):
            raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self._pidfd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
