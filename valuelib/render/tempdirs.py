"""Temporary folders short enough for the Unix sockets made under them.

A Unix socket's path holds at most `SUN_PATH_MAX` bytes. The render makes sockets under its
temporary folders: Chromium's singleton socket in its ``TMPDIR``, the kernels' ZeroMQ sockets
(``fork`` and ``fresh`` kernels) in a task's folder, and multiprocessing's fork-server
listener. Under a long ``TMPDIR`` those paths pass the limit: the browser exits at its start
and multiprocessing raises ``AF_UNIX path too long``. Each caller states how deep its sockets
lie (`depth`) and gets ``TMPDIR`` when that fits, else the first system folder that does.
"""

from __future__ import annotations

import logging
import os
import tempfile

__all__ = ["CHROMIUM_SOCKET", "KERNEL_SOCKET", "LISTENER_SOCKET", "SUN_PATH_MAX",
           "TempDirTooLongError", "socket_root"]

#: The longest path a Unix socket may have, in bytes (Linux: ``sun_path`` holds 108 with
#: the terminating NUL).
SUN_PATH_MAX = 107
#: How deep each socket lies under the folder it is made in (its user adds its own folders):
#: Chromium's singleton socket, in the TMPDIR the browser is given;
CHROMIUM_SOCKET = len("/.org.chromium.Chromium.XXXXXX/SingletonSocket")
#: a kernel's ZeroMQ ``ipc`` sockets (``fork`` and ``fresh`` kernels), ``kernel-ipc-N`` as
#: jupyter_client names them, in the kernel's working folder;
KERNEL_SOCKET = len("/kernel-ipc-99999")
#: multiprocessing's fork-server listener, in a folder it makes once per process.
LISTENER_SOCKET = len("/pymp-XXXXXXXX/listener-XXXXXXXX")
#: Where to go when ``TMPDIR`` is too long, in order (Python's own fallbacks on POSIX).
FALLBACKS = ("/tmp", "/var/tmp", "/usr/tmp")

log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


class TempDirTooLongError(RuntimeError):
    """No temporary folder leaves room for the socket paths made under it."""


def _fits(folder: str, depth: int) -> bool:
    return len(os.fsencode(folder)) + depth <= SUN_PATH_MAX


def _usable(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)


def socket_root(depth: int) -> str:
    """This process's temporary folder (``tempfile.gettempdir()``) if socket paths `depth`
    bytes below it stay within `SUN_PATH_MAX`, else the first of `FALLBACKS` where they do
    (with a warning, once, naming both). Raises :class:`TempDirTooLongError` if none does."""
    own = tempfile.gettempdir()
    if _fits(own, depth):
        return own
    for folder in FALLBACKS:
        if _fits(folder, depth) and _usable(folder):
            if (own, folder) not in _warned:
                _warned.add((own, folder))
                log.warning("the temporary folder %r (TMPDIR) is too long for the Unix sockets "
                            "the render makes under it (a socket's path holds at most %d "
                            "bytes): using %s instead; set TMPDIR to a shorter folder to "
                            "choose another", own, SUN_PATH_MAX, folder)
            return folder
    raise TempDirTooLongError(
        f"the temporary folder {own!r} (TMPDIR) is too long for the Unix sockets the render "
        f"makes under it (a socket's path holds at most {SUN_PATH_MAX} bytes), and none of "
        f"{', '.join(FALLBACKS)} is a writable folder short enough: set TMPDIR to a shorter "
        "folder")
