"""Compare this environment with the lock file (requirements/lock.txt), for the Makefile.

`python requirements/envlock.py prune LOCK` uninstalls what the lock does not list, so a
virtualenv re-installed after the lock changed holds exactly the locked set;
`python requirements/envlock.py diff LOCK` prints every package whose installed version differs
from the lock (what `make test-latest` tests beyond the lock).
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: Installed beside the locked set on purpose: the installers and the project itself.
KEEP = {"pip", "setuptools", "wheel", "uv", "valuereview"}


def locked(lock: Path) -> dict[str, str]:
    """Package name -> pinned version, for the lock's entries whose marker fits this Python."""
    text = re.sub(r"\\\n", " ", lock.read_text())
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = re.sub(r"\s--hash=\S+", "", line.split("#", 1)[0]).strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        (spec,) = req.specifier
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def installed() -> dict[str, str]:
    """Package name -> version of every distribution installed in this environment."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def main(argv: list[str]) -> int:
    """Run `prune` or `diff` against the lock file named in argv; returns the exit status."""
    if len(argv) != 2 or argv[0] not in ("prune", "diff"):
        print("usage: envlock.py prune|diff LOCK", file=sys.stderr)
        return 2
    pins, have = locked(Path(argv[1])), installed()
    if argv[0] == "prune":
        extra = sorted(set(have) - set(pins) - KEEP)
        if extra:
            print(f"not in {argv[1]}, uninstalling: {' '.join(extra)}")
            subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", *extra],
                           check=True)
        return 0
    changed = [f"  {name} {pins.get(name, '-')} -> {have.get(name, '-')}"
               for name in sorted((set(pins) | set(have)) - KEEP)
               if pins.get(name) != have.get(name)]
    print(f"{len(changed)} package(s) differ from {argv[1]}" + (":" if changed else ""))
    for line in changed:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
