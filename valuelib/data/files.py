"""Atomic file writes and SHA-256 digests, with the standard library only: what the batch needs
to decide that nothing changed without importing the data libraries (`bundle` re-exports both).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["sha256", "write_atomic"]

_UMASK: int | None = None


def _umask() -> int:
    """The process's umask (read by setting it and putting it back, once)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to `path` through a temporary file and a rename, so readers never see half.

    The file gets the mode an ordinary write would (0666 less the umask, so 0644 by default)
    so a web server or a shared drive can read published documents; `private` keeps it 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            if not private:
                os.fchmod(fh.fileno(), 0o666 & ~_umask())
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256(data: bytes) -> str:
    """The SHA-256 of `data`, in hex."""
    return hashlib.sha256(data).hexdigest()
