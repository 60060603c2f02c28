"""A persistent headless Chromium that prints HTML to PDF, one per worker process.

Driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``): no port to guard,
no Playwright driver process (which costs CPU of its own), only the standard library. The
browser prints in one page, each document replacing the last one's whole content; every
network request of the page is refused (the DevTools ``Fetch`` domain pauses them all and
fails them) and its scripts are disabled; a document is self-contained
(``data:`` URLs only), so nothing it asks for is ever read. The browser is recycled after
`Browser.max_documents` documents or when its processes' memory grows past
`Browser.max_rss_mb`, and killed and restarted on the next document when it dies or
overruns a document's deadline: that document fails (:class:`BrowserExited`,
:class:`BrowserHung`), the next one prints. A browser started, with its page, by one process
can be handed to the next process it starts (`Browser.hand_over`, `receive`): a batch starts
its first workers' browsers while those workers are still being prepared.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import html as html_lib
import json
import os
import re
import select
import shutil
import signal
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuelib.render import PDF_ENGINE, PDF_ENGINES, tempdirs

__all__ = ["ENV_EXECUTABLE", "PRINT_TIMEOUT", "Browser", "BrowserError", "BrowserExited",
           "BrowserHung", "Handover", "close_all", "executable", "fonts_env", "receive",
           "resolve_engine"]

#: The environment variable naming the Chromium binary (else the first of `NAMES` on the PATH).
ENV_EXECUTABLE = "VALUEREVIEW_CHROMIUM"
#: Chromium's headless shell (Chrome for Testing's, Debian's): the same Blink, so the same
#: pages, with none of the desktop browser's profile services, which cost a new browser about
#: 1.2 s of CPU against 0.15 s and every print about a sixth more (`benchmarks/results.md`).
SHELL_NAMES = ("chrome-headless-shell", "chromium-headless-shell")
#: The desktop browser, where no shell is installed.
DESKTOP_NAMES = ("chromium", "chromium-browser", "google-chrome")
#: What `executable` looks for on the PATH, in order.
NAMES = SHELL_NAMES + DESKTOP_NAMES

#: Flags of every browser started here: headless, no sandbox (containers have no user
#: namespaces), nothing that talks to the network on its own, no name resolution at all.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--mute-audio",
    # No audio output at all: muted, the browser could still connect to PulseAudio, which
    # then wrote a runtime folder into its TMPDIR and a link to it under ~/.config/pulse.
    "--disable-audio-output",
    # Glyph advances as the font has them, not rounded to screen pixels (which spaces out
    # small print and widens table columns).
    "--font-render-hinting=none",
    # Renderer, network service and print compositor run as threads of the browser process:
    # a print otherwise starts a compositor process of its own (about 0.05 s CPU each), and
    # the processes' messages cost CPU too. The page runs no script and fetches nothing; a
    # browser that dies or hangs is replaced whole anyway.
    "--single-process",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=socks5://0.0.0.0:9",
)

#: How deep a browser's sockets lie under the temporary folder (`tempdirs`): the browser's
#: own folder (its profile and its TMPDIR), and Chromium's singleton socket in that TMPDIR.
SOCKET_DEPTH = len("/vr-chromium-XXXXXXXX") + tempdirs.CHROMIUM_SOCKET

#: Seconds one document may take to print, its browser's start included (`Browser.timeout`;
#: ``valuereview render --print-timeout``).
PRINT_TIMEOUT = 60.0

#: Page.printToPDF options besides the document's own: its CSS page size and margins, its
#: backgrounds, a tagged PDF with the headings as outline.
PRINT_OPTIONS: dict[str, Any] = {
    "preferCSSPageSize": True,
    "printBackground": True,
    "generateTaggedPDF": True,
    "generateDocumentOutline": True,
    "transferMode": "ReturnAsBase64",
}


#: Every browser object of this process (each may have a running browser).
_BROWSERS: weakref.WeakSet[Browser] = weakref.WeakSet()


def close_all() -> None:
    """Stop every browser this process started and remove their folders: for a process about
    to end without running its exit handlers (``os._exit``, a signal), whose browsers (in
    sessions of their own) would otherwise outlive it for a moment, writing to their profiles."""
    for browser in list(_BROWSERS):
        with contextlib.suppress(Exception):
            browser.close()


class BrowserError(RuntimeError):
    """The browser died, hung past a document's deadline or failed to print it."""


class BrowserExited(BrowserError):
    """The browser exited (crashed or was killed) while it worked: a new one may well print
    what it was printing."""


class BrowserHung(BrowserError):
    """The browser did not answer, or stopped reading, before a document's deadline (it is
    killed): a new one may well print what it was printing."""


def executable() -> str | None:
    """The Chromium binary: `ENV_EXECUTABLE` if set, else the first of `NAMES` on the PATH;
    None if there is none."""
    named = os.environ.get(ENV_EXECUTABLE)
    return find((named,) if named else NAMES)


def find(names: tuple[str, ...]) -> str | None:
    """The first of `names` on the PATH, as it is started (`_launched`); None if none is."""
    for name in names:
        found = shutil.which(name)
        if found:
            return _launched(found)
    return None


def _launched(path: str) -> str:
    """The binary a launcher script at `path` runs as its child, by its absolute path under
    the same name, else `path`. Debian's ``chromium-headless-shell`` does (no ``exec``), which
    would leave the browser's pid, its exit and its memory out of sight. A launcher that
    ``exec``s the browser (Debian's ``chromium``, a user's own wrapper) is kept: what it sets
    up still applies, and the browser's pid is the one started."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return path
    if not head.startswith(b"#!"):
        return path
    name = os.path.basename(path).encode()
    for line in head.splitlines()[1:]:
        if re.match(rb"\s*exec\b", line):
            return path
    for literal in re.findall(rb"(/[^\s\"';&|]+)", head):
        if os.path.basename(literal) != name or literal == os.fsencode(path):
            continue
        target = os.fsdecode(literal)
        try:
            with open(target, "rb") as f:
                binary = f.read(4) == b"\x7fELF"
        except OSError:
            continue
        if binary and os.access(target, os.X_OK):
            return target
    return path


@functools.cache
def version(path: str | None = None) -> str:
    """What ``chromium --version`` prints (e.g. "Chromium 156.0.8078.108 built on Debian
    ..."), read once per process: a new browser lays a document out anew, so the version
    belongs in the cache key. Empty when no Chromium is found or it does not answer."""
    path = path or executable()
    if not path:
        return ""
    import subprocess

    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                              check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})
    except (OSError, subprocess.SubprocessError):
        return ""
    return " ".join(done.stdout.split())


def resolve_engine(name: str) -> str:
    """The PDF engine ``--pdf-engine name`` means: ``auto`` is chromium when a Chromium is
    installed, else the default engine; any other name must be one of `PDF_ENGINES`."""
    if name == "auto":
        return "chromium" if executable() is not None else PDF_ENGINE
    if name not in PDF_ENGINES:
        raise ValueError(f"unknown PDF engine {name!r}: one of auto, {', '.join(PDF_ENGINES)}")
    return name


_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>{fonts}</dir><cachedir>{cache}</cachedir>
<match target="font"><edit name="hinting" mode="assign"><bool>false</bool></edit>
<edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
<edit name="autohint" mode="assign"><bool>false</bool></edit>
<edit name="antialias" mode="assign"><bool>true</bool></edit>
<edit name="rgba" mode="assign"><const>none</const></edit></match></fontconfig>
"""


@functools.cache
def fonts_env() -> dict[str, str]:
    """The environment of a browser that prints the house's documents: a fontconfig that
    knows the bundled fonts only (so no font of the machine can be used), in a private
    folder kept for this process."""
    from valuelib.report import fonts

    folder = tempfile.TemporaryDirectory(prefix="vr-chromium-fonts-")
    _keep.append(folder)
    conf = Path(folder.name) / "fonts.conf"
    conf.write_text(_FONTCONFIG.format(fonts=html_lib.escape(str(fonts.FONTS_DIR)),
                                       cache=html_lib.escape(folder.name)), encoding="utf-8")
    return {"FONTCONFIG_FILE": str(conf)}


_keep: list[tempfile.TemporaryDirectory[str]] = []

#: Variables that would point a browser at the user's folders rather than its own.
_USER_FOLDERS = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
                 "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")


def _browser_env(env: dict[str, str], folder: str) -> dict[str, str]:
    """A browser's environment: this process's, with `env`, and its own `folder` as its home
    and TMPDIR. Chromium writes outside its profile (crash report settings under
    ~/.config/chromium, dconf's cache under ~/.cache): here that lands in `folder`, removed
    at its close, and nothing of the user's home is read or left behind."""
    kept = {k: v for k, v in os.environ.items() if k not in _USER_FOLDERS}
    return {**kept, "LC_ALL": "C.UTF-8", **env, "HOME": folder, "TMPDIR": folder}


class _PassedFd:
    """A file descriptor that multiprocessing hands to the process it starts (pickled as
    ``multiprocessing.reduction.DupFd``, sent with SCM_RIGHTS): in that process, `fd` is its
    own copy. Only for a `Process`'s arguments."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, ...]:
        from multiprocessing import reduction

        return _received_fd, (reduction.DupFd(self.fd),)


def _received_fd(dup: Any) -> _PassedFd:
    return _PassedFd(dup.detach())


@dataclass
class Handover:
    """A browser started and given its page by one process (a batch, while its workers'
    preloading process imports) for the process it starts next (a worker), which prints with it
    as if it had started it (`receive`). The browser stays the starter's child: the starter
    reaps it and kills it if the worker dies; the worker watches it through `pidfd`."""

    path: str
    env_keys: tuple[str, ...]
    pid: int
    pidfd: _PassedFd
    to_browser: _PassedFd
    from_browser: _PassedFd
    folder: str
    target: tuple[str, str]


#: Browsers handed to this process (`receive`), taken by the next `Browser.start` that fits.
_received: list[Handover] = []


def receive(handover: Handover) -> None:
    """Keep a browser another process started for this one: the next `Browser.start` of this
    process with the same executable and environment takes it instead of starting one."""
    _received.append(handover)


def _take_received(path: str, env: dict[str, str]) -> Handover | None:
    for i, handover in enumerate(_received):
        if handover.path == path and handover.env_keys == tuple(sorted(env)):
            return _received.pop(i)
    return None


#: The longest single wait on the pipe, in seconds (`select` takes no longer timeout; a
#: deadline further off, even an infinite one, is waited for in turns).
_MAX_WAIT = 3600.0


class _Pipe:
    """The DevTools protocol over the browser's pipe: JSON messages ended by NUL bytes.

    Every read and write honours a deadline; paused requests (``Fetch.requestPaused``) are
    failed as they arrive, whatever call is waiting, and their URLs recorded."""

    def __init__(self, write_fd: int, read_fd: int) -> None:
        self._w, self._r = write_fd, read_fd
        os.set_blocking(self._w, False)
        self._buf = b""
        self._next = 0
        self.blocked: list[str] = []

    def close(self) -> None:
        for fd in (self._w, self._r):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserHung("the browser stopped reading its commands")
            if not select.select([], [self._w], [], min(left, _MAX_WAIT))[1]:
                continue
            try:
                view = view[os.write(self._w, view):]
            except BlockingIOError:
                continue
            except OSError as exc:
                raise BrowserExited(f"the browser's pipe is closed ({exc})") from None

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserHung("the browser did not answer in time")
            if not select.select([self._r], [], [], min(left, _MAX_WAIT))[0]:
                continue
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise BrowserExited("the browser closed its pipe (it exited)")
            self._buf += chunk
        message, _, self._buf = self._buf.partition(b"\0")
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None, session: str | None,
             deadline: float) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(json.dumps(message).encode() + b"\0", deadline)
        return self._next

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, *, deadline: float) -> dict[str, Any]:
        """Send one command and wait for its answer (failing paused requests meanwhile)."""
        ident = self.send(method, params, session, deadline)
        while True:
            message = self._read(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error'].get('message')}")
                return message.get("result", {})
            if message.get("method") == "Fetch.requestPaused":
                paused = message["params"]
                self.blocked.append(paused.get("request", {}).get("url", "?"))
                self.send("Fetch.failRequest",
                          {"requestId": paused["requestId"], "errorReason": "BlockedByClient"},
                          message.get("sessionId"), deadline)


class Browser:
    """One headless Chromium, started on first use and kept for the next documents.

    `timeout`: seconds one document may take (a hung browser is killed at that point);
    `max_documents` and `max_rss_mb`: when the browser is replaced by a fresh one (with
    its one page: see `_page`); `env`: variables added to the browser's environment (its
    fonts' configuration)."""

    #: What follows the flags on the browser's command line: no window or page at its start
    #: (as Playwright starts one), since `_page` makes the one page it prints in. With an
    #: ``about:blank`` start page, 4 of 1,204 new browsers crashed or hung at their first
    #: document, against 0 of 1,200 without (``python -m benchmarks.browser_starts``).
    start_page: tuple[str, ...] = ("--no-startup-window",)

    def __init__(self, path: str | None = None, *, timeout: float = PRINT_TIMEOUT,
                 max_documents: int = 200, max_rss_mb: float = 1500.0,
                 env: dict[str, str] | None = None) -> None:
        self.path = path or executable()
        if not self.path:
            raise BrowserError(f"no Chromium found: install chromium or set {ENV_EXECUTABLE}")
        self.timeout = timeout
        self.max_documents = max_documents
        self.max_rss_mb = max_rss_mb
        self.env = dict(env or {})
        self._target: tuple[str, str] | None = None
        self._owner = os.getpid()
        #: One `close` at a time: at exit this browser's own `atexit` close can run while a
        #: thread that was opening its page closes it too (its pipe was closed under it).
        self._closing = threading.RLock()
        atexit.register(self.close)
        _BROWSERS.add(self)
        self.pid: int | None = None
        self.documents = 0
        self._pipe: _Pipe | None = None
        self._folder: str | None = None
        #: A pidfd of a browser another process started and handed over (`receive`): that
        #: process reaps it, this one watches and kills it through the pidfd.
        self._pidfd: int | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self, deadline: float | None = None) -> None:
        """Start the browser (a new process group, a private empty profile), answering by
        `deadline` (a `time.monotonic` reading; else `timeout` from now). Its profile and its
        TMPDIR are one private folder, removed by `close` in this process only: the browser
        is killed, never cleans up itself, and makes its singleton socket in its TMPDIR (so
        that folder lies where socket paths fit: `tempdirs.socket_root`). A browser handed to
        this process for this executable and environment (`receive`) is taken instead."""
        self.close()
        handover = _take_received(self.path, self.env)
        if handover is not None:
            self._adopt(handover)
            return
        self._folder = tempfile.mkdtemp(prefix="vr-chromium-",
                                        dir=tempdirs.socket_root(SOCKET_DEPTH))
        profile = os.path.join(self._folder, "profile")
        os.mkdir(profile, 0o700)
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        args = [self.path, *FLAGS, f"--user-data-dir={profile}", *self.start_page]
        with open(os.devnull, "wb") as null:
            try:
                self.pid = os.posix_spawn(self.path, args, _browser_env(self.env, self._folder),
                    file_actions=[(os.POSIX_SPAWN_DUP2, null.fileno(), 1),
                                  (os.POSIX_SPAWN_DUP2, null.fileno(), 2),
                                  (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                                  (os.POSIX_SPAWN_DUP2, from_browser_w, 4)],
                    setsid=True)
            finally:
                os.close(to_browser_r)
                os.close(from_browser_w)
        self._pipe = _Pipe(to_browser_w, from_browser_r)
        self.documents = 0
        try:
            if deadline is None:
                deadline = time.monotonic() + self.timeout
            self._pipe.call("Browser.getVersion", deadline=deadline)
        except BrowserError:
            self.close()
            raise

    def _adopt(self, handover: Handover) -> None:
        """Print with a browser another process started (`Handover`) from now on."""
        self.pid = handover.pid
        self._pidfd = handover.pidfd.fd
        self._folder = handover.folder
        self._target = handover.target
        self._pipe = _Pipe(handover.to_browser.fd, handover.from_browser.fd)
        self.documents = 0

    def open_page(self, deadline: float | None = None) -> None:
        """Start the browser if it is not running and make the page it prints in, by
        `deadline` (else `timeout` from now): what its first document would otherwise wait
        for (about 0.6 s of CPU)."""
        deadline = time.monotonic() + self.timeout if deadline is None else deadline
        try:
            self._page(self._ready(deadline), deadline)
        except (BrowserError, OSError, ValueError):
            self.close()
            raise

    def hand_over(self) -> Handover:
        """This running browser, with its page, for the process about to be started (a
        `multiprocessing` process's argument); call `let_go` once that process has started."""
        if self._pipe is None or self.pid is None or self._target is None or self._folder is None:
            raise BrowserError("only a running browser with its page can be handed over")
        return Handover(self.path, tuple(sorted(self.env)), self.pid,
                        _PassedFd(os.pidfd_open(self.pid)), _PassedFd(self._pipe._w),
                        _PassedFd(self._pipe._r), self._folder, self._target)

    def let_go(self, handover: Handover) -> None:
        """After `hand_over`: the other process has its own copies of the browser's pipe, so
        close this one's (the browser then sees the other process's end as the only one). The
        browser stays this process's child: `close` still kills, reaps and removes it."""
        with contextlib.suppress(OSError):
            os.close(handover.pidfd.fd)
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        self._target = None

    def close(self) -> None:
        """Stop the browser and every process it started; remove its folder. In a process
        forked from the browser's owner, only forget it (it is the owner's)."""
        if os.getpid() != self._owner:
            self._pipe = self.pid = self._folder = self._target = self._pidfd = None
            self._owner = os.getpid()
            self._closing = threading.RLock()  # the owner's may have been held at the fork
            return
        with self._closing:
            self._close()

    def _close(self) -> None:
        self._target = None
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self._pidfd is not None:
            # Handed over: not this process's child. Until its starter reaps it the pid stays
            # its own, so a group kill is safe only while the pidfd says it still runs.
            if self._running_by_pidfd():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = self.pid = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def alive(self) -> bool:
        """Whether the browser process is running (one that exited is reaped here)."""
        if self.pid is None:
            return False
        if self._pidfd is not None:
            return self._running_by_pidfd()
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def _running_by_pidfd(self) -> bool:
        """A handed-over browser's state: its pidfd becomes readable when it exits."""
        assert self._pidfd is not None
        try:
            return not select.select([self._pidfd], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def rss_mb(self) -> float:
        """Resident memory of the browser's processes, in MiB (0 when not running)."""
        if self.pid is None:
            return 0.0
        import psutil

        total = 0
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.pid)
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
        return total / 2**20

    def _ready(self, deadline: float) -> _Pipe:
        """The running browser's pipe; a new browser first (started by `deadline`) if there is
        none, or it has printed `max_documents` documents or grown past `max_rss_mb`."""
        if os.getpid() != self._owner:
            self.close()  # a forked copy: start a browser of its own
        if self._pipe is None or not self.alive() or self.documents >= self.max_documents or (
                self.documents and self.documents % 20 == 0
                and self.rss_mb() > self.max_rss_mb):
            self.start(deadline)
        assert self._pipe is not None
        return self._pipe

    # --- printing -----------------------------------------------------------------------

    def pdf(self, html: str, *, timeout: float | None = None,
            options: dict[str, Any] | None = None) -> tuple[bytes, list[str]]:
        """Print an HTML document to PDF (`PRINT_OPTIONS`, updated by `options`); with it, the
        URLs the page asked for (all refused). A browser that dies or overruns `timeout` (its
        start included) is killed and the document fails with :class:`BrowserExited` or
        :class:`BrowserHung`; the next document starts a new browser."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            pipe = self._ready(deadline)
            session, frame = self._page(pipe, deadline)
            pipe.blocked = []
            pipe.call("Page.setDocumentContent", {"frameId": frame, "html": html}, session,
                      deadline=deadline)
            pipe.call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => 0)",
                                           "awaitPromise": True}, session, deadline=deadline)
            result = pipe.call("Page.printToPDF", {**PRINT_OPTIONS, **(options or {})}, session,
                               deadline=deadline)
        except (BrowserError, OSError, ValueError) as exc:
            self.close()
            kind = type(exc) if isinstance(exc, BrowserError) else BrowserError
            raise kind(f"Chromium failed to print the document: {exc}") from None
        self.documents += 1
        return base64.b64decode(result["data"]), list(pipe.blocked)

    def _page(self, pipe: _Pipe, deadline: float) -> tuple[str, str]:
        """The page to print in (its session and frame ids), every request of it refused and
        its scripts off: one for the browser's life. A page is never closed: under
        ``--single-process`` Chromium 156 often crashes (SIGSEGV) making the next one after
        closing one, and the browser is replaced whole after `max_documents` anyway."""
        if self._target is not None:
            return self._target
        target = pipe.call("Target.createTarget", {"url": "about:blank"},
                           deadline=deadline)["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                            deadline=deadline)["sessionId"]
        pipe.call("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session, deadline=deadline)
        pipe.call("Emulation.setScriptExecutionDisabled", {"value": True}, session,
                  deadline=deadline)
        self._target = (session, target)
        return self._target
