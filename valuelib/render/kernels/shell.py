"""A notebook's cells run in a forked IPython shell, without the Jupyter messaging protocol.

A Jupyter kernel is an IPython ``InteractiveShell`` behind ZeroMQ: five sockets, a heartbeat,
an IO thread, and every output serialised, signed, sent, checked and rebuilt. For a notebook
that the batch runs once and throws away, that protocol costs about a third of a second of
CPU per account, in the kernel and in the worker, before and after the notebook's own work.

Here the fork server (`forkserver.py`) forks a pristine pre-imported child for each notebook,
as it does for a kernel, and the child runs each cell with the same ``InteractiveShell`` that
ipykernel uses (same transformers, display formatter, display hook, traceback formatting,
matplotlib inline backend, IPython history off). What a kernel would publish on IOPub is
collected per cell as nbformat outputs and sent back over a private socket pair:

* worker → child: ``{"op": "run", "code": ...}`` per code cell, ``{"op": "info"}`` once;
* child → worker: the cell's ``outputs``, ``execution_count``, ``status`` and, on error,
  ``ename``/``evalue``; display updates by display id as ``updates``.

Frames are a 4-byte length and JSON. The child holds nothing but its own account's bundle,
exactly like a forked kernel; it is killed after the notebook. Timeouts and a child that dies
are seen by the worker (`Session.run`) and recorded in the failing cell by the engine
(`render.engine.ShellEngine`), as they are for a kernel.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any

from jupyter_client.jsonutil import json_default

_FRAME = struct.Struct("!I")
#: Cap on one frame (a cell's outputs): far above a review's largest cell (a few hundred KB).
MAX_FRAME = 512 << 20


class ChildDied(RuntimeError):
    """The shell process exited (or closed its socket) before it answered."""


class ChildTimeout(TimeoutError):
    """The shell did not answer within the cell's time limit."""


def send_frame(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one message: its JSON's length, then the JSON."""
    data = json.dumps(message, default=json_default, ensure_ascii=False).encode("utf-8")
    sock.sendall(_FRAME.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None,
                watch: int | None) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        fds = [sock] + ([watch] if watch is not None else [])
        readable, _, _ = select.select(fds, [], [], wait)
        if sock in readable:
            chunk = sock.recv(min(n - got, 1 << 20))
            if not chunk:
                raise ChildDied("the shell closed its socket")
            chunks.append(chunk)
            got += len(chunk)
            continue
        if watch is not None and watch in readable:
            # The process has exited: whatever it sent before is still readable.
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                raise ChildDied("the shell process exited")
            continue
        if deadline is not None and time.monotonic() >= deadline:
            raise ChildTimeout
    return b"".join(chunks)


def recv_frame(sock: socket.socket, deadline: float | None = None,
               watch: int | None = None) -> dict[str, Any]:
    """Receive one message; `deadline` (monotonic) raises `ChildTimeout`, and `watch` (a
    pidfd) raises `ChildDied` as soon as that process has exited with nothing left to read."""
    (size,) = _FRAME.unpack(_recv_exact(sock, _FRAME.size, deadline, watch))
    if size > MAX_FRAME:
        raise ChildDied(f"the shell sent a frame of {size} bytes")
    return json.loads(_recv_exact(sock, size, deadline, watch))


# --------------------------------------------------------------------------------------------
# Child side: runs in a fork of the fork server, one notebook, then exits.
# --------------------------------------------------------------------------------------------


class _Cell:
    """The outputs of the cell being run, as nbformat dicts, in the order they appeared."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.by_display_id: dict[str, list[dict[str, Any]]] = {}
        self.clear_pending = False
        self._streams: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def stream(self, name: str, text: str) -> None:
        self._streams[name].append(text)

    def flush(self) -> None:
        """Turn buffered text into stream outputs, stdout then stderr, as ipykernel flushes
        its two buffered streams before a display and at the end of a cell."""
        for name, chunks in self._streams.items():
            text = "".join(chunks)
            chunks.clear()
            if text:
                self.add({"output_type": "stream", "name": name, "text": text})

    def add(self, output: dict[str, Any], display_id: str | None = None) -> None:
        if self.clear_pending:
            self.outputs.clear()
            self.clear_pending = False
        self.outputs.append(output)
        if display_id:
            self.by_display_id.setdefault(display_id, []).append(output)

    def clear(self, wait: bool) -> None:
        self.flush()
        if wait:
            self.clear_pending = True
        else:
            self.outputs.clear()


_cell = _Cell()


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr of the shell: text goes to the cell's outputs."""

    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        _cell.stream(self.name, text)
        return len(text)

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:  # C code writing to the descriptor reaches kernel.log
        return self._fd

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


def _make_shell() -> Any:
    """An IPython shell configured as ipykernel configures its own, publishing into `_cell`."""
    from IPython.core.display_trap import DisplayTrap
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None,
                    source: Any = None, *, transient: dict[str, Any] | None = None,
                    update: bool = False, **kwargs: Any) -> None:
            _cell.flush()
            display_id = (transient or {}).get("display_id")
            if update and display_id:
                _cell.updates.append({"display_id": display_id, "data": data,
                                      "metadata": metadata or {}})
                for out in _cell.by_display_id.get(display_id, []):
                    out["data"], out["metadata"] = data, metadata or {}
                return
            _cell.add({"output_type": "display_data", "data": data,
                       "metadata": metadata or {}}, display_id)
            if display_id:
                _cell.outputs[-1]["transient"] = {"display_id": display_id}

        def clear_output(self, wait: bool = False) -> None:
            _cell.clear(wait)

    class Hook(DisplayHook):
        def start_displayhook(self) -> None:
            pass

        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: dict[str, Any],
                              md_dict: dict[str, Any] | None = None) -> None:
            _cell.flush()
            if format_dict:
                _cell.add({"output_type": "execute_result", "data": format_dict,
                           "metadata": md_dict or {}, "execution_count": self.prompt_count})

        def finish_displayhook(self) -> None:
            pass

    class Shell(InteractiveShell):
        def init_display_pub(self) -> None:
            self.display_pub = Publisher(parent=self, shell=self)
            self.configurables.append(self.display_pub)

        def init_displayhook(self) -> None:
            self.displayhook = Hook(parent=self, shell=self, cache_size=self.cache_size)
            self.configurables.append(self.displayhook)
            self.display_trap = DisplayTrap(hook=self.displayhook)

        def _showtraceback(self, etype: Any, evalue: Any, stb: list[str]) -> None:
            _cell.flush()
            _cell.add({"output_type": "error", "ename": str(etype.__name__),
                       "evalue": str(evalue), "traceback": list(stb)})

        def ask_exit(self) -> None:  # exit() / quit() in a cell: ignored, as ipykernel
            pass

    from ipykernel.compiler import XCachingCompiler

    config = Config()
    config.HistoryManager.enabled = False  # no shared history database (see execute.py)
    # Cells are compiled under the names ipykernel gives them, so a warning or a traceback
    # reads the same as in a kernel.
    return Shell.instance(config=config, compiler_class=XCachingCompiler)


def language_info() -> dict[str, Any]:
    """The notebook's ``metadata.language_info``, as ipykernel's kernel_info reply gives it."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


def serve(sock: socket.socket) -> int:
    """The child's loop: run each cell it is sent until the worker says "end" or goes."""
    global _cell
    sys.stdout = _Stream("stdout", 1)
    sys.stderr = _Stream("stderr", 2)
    shell = _make_shell()
    while True:
        try:
            req = recv_frame(sock)
        except ChildDied:
            return 0
        op = req.get("op")
        if op == "info":
            send_frame(sock, {"language_info": language_info()})
            continue
        if op != "run":
            return 0
        _cell = _Cell()
        result = shell.run_cell(req["code"], store_history=True, silent=False)
        _cell.flush()
        err = result.error_before_exec or result.error_in_exec
        reply: dict[str, Any] = {
            "status": "ok" if result.success else "error",
            "execution_count": shell.execution_count - 1,
            "outputs": _cell.outputs,
            "updates": _cell.updates,
        }
        if err is not None:
            reply["ename"] = type(err).__name__
            reply["evalue"] = str(err)
        send_frame(sock, reply)


# --------------------------------------------------------------------------------------------
# Worker side.
# --------------------------------------------------------------------------------------------


class Session:
    """One forked shell, one notebook: run its cells, then kill it."""

    def __init__(self, sock: socket.socket, pid: int, pidfd: int | None) -> None:
        self.sock = sock
        self.pid = pid
        self.pidfd = pidfd

    @classmethod
    def start(cls, cwd: str, env: dict[str, str]) -> Session:
        """Fork a shell from this process's fork server, in `cwd` with `env`."""
        from valuelib.render.kernels import forkserver

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                pid, pidfd = forkserver.get_server().shell(theirs.fileno(), cwd, env)
            except forkserver.ForkServerError as exc:  # a dead server is restarted once
                forkserver.log.warning("fork server failed (%s); restarting it", exc)
                forkserver.stop_server()
                pid, pidfd = forkserver.get_server().shell(theirs.fileno(), cwd, env)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        return cls(ours, pid, pidfd)

    def request(self, message: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        """Send `message` and wait for the answer (`ChildTimeout`, `ChildDied`)."""
        try:
            send_frame(self.sock, message)
        except OSError as exc:
            raise ChildDied(f"the shell is gone ({exc})") from exc
        deadline = None if timeout is None else time.monotonic() + timeout
        return recv_frame(self.sock, deadline, self.pidfd)

    def exit_code(self) -> int | None:
        """The child's exit code once it has exited and its server has reaped it."""
        from valuelib.render.kernels import forkserver

        with contextlib.suppress(forkserver.ForkServerError):
            for _ in range(50):
                code = forkserver.get_server(wait=False).exit_code(self.pid)
                if code is not None:
                    return code
                time.sleep(0.01)
        return None

    def close(self) -> None:
        """Kill the child's process group (it and anything it started) and let go of it."""
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            if self.pidfd is not None:
                with contextlib.suppress(ProcessLookupError, OSError):
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except PermissionError:
            pass
        if self.pidfd is not None:
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.pidfd], [], [], 0.05)
                if readable:
                    break
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
