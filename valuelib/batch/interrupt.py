"""Ctrl-C and SIGTERM at any moment of a batch: the first asks it to stop, the second stops it.

A first SIGINT (a terminal's Ctrl-C) or SIGTERM (what `timeout`, systemd and CI runners send)
only sets a flag: no account starts after it, accounts in flight are abandoned with their
previous files untouched, and the batch still writes its manifest and index for what finished.
A second signal raises :class:`Interrupted` at once. The command exits 128 + the signal's
number (130 for SIGINT, 143 for SIGTERM), as a shell reports a command stopped by it.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["SIGNALS", "Interrupted", "StopOnSignals", "exit_status", "install_early"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: A signal that arrived before any `StopOnSignals` was active (see `install_early`).
_early: int | None = None


def _record_early(signum: int, frame: Any) -> None:
    global _early
    if _early is not None:
        raise Interrupted(_early)
    _early = signum


def install_early() -> None:
    """Record a stop signal from the command's first moment (before its imports are done), for
    the `StopOnSignals` installed later to act on; a second one still raises."""
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            signal.signal(sig, _record_early)


def restore_defaults() -> int | None:
    """Put Python's own SIGINT and SIGTERM handling back (a command that is not a batch);
    returns the signal that arrived meanwhile, if any."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return _early


class Interrupted(KeyboardInterrupt):
    """A second stop signal: the batch gives up at once."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(signum: int | None) -> int:
    """The exit status of a command stopped by `signum` (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signum or signal.SIGINT)


class StopOnSignals:
    """While active, SIGINT and SIGTERM ask to stop (`requested`, `signum`); a second raises.

    Re-entrant: a nested use (the command line installs one before the batch installs its
    own) shares the outer one's state. Outside the main thread it installs nothing.
    """

    _active: StopOnSignals | None = None

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}
        self._outer: StopOnSignals | None = None

    def requested(self) -> bool:
        """Whether a stop signal has arrived."""
        return self.signum is not None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)
        self.signum = signum

    def __enter__(self) -> StopOnSignals:
        if StopOnSignals._active is not None:
            self._outer = StopOnSignals._active
            return self._outer
        self.signum = _early
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
            StopOnSignals._active = self
        return self

    def __exit__(self, *exc: object) -> None:
        if self._outer is not None:
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        if StopOnSignals._active is self:
            StopOnSignals._active = None
