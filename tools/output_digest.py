"""Fingerprint every output of a demo render, so a change meant to keep behaviour can prove it:
`make digest` writes `OUT` (a list of `sha256  path`), `make digest ARGS="--check OUT"` renders
again and names every file whose bytes differ.

It builds the demo warehouse in a temporary folder and renders the quarter twice into one
output folder, for the customer audience and then the internal one (the demo's accounts cover
every language): the HTML and PDF documents, each account's `metrics.json`, the notebook
outputs, the portfolio review, the indexes and the manifests. The clock is fixed through
`SOURCE_DATE_EPOCH`; a manifest's per-stage timings are the only part left out (they measure
this machine, not the documents) with the cache key (a hash of the code), and a notebook is
fingerprinted by its cells' outputs: not its code (a refactoring may move an import), nor the
execution times papermill stamps in its metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Manifest keys that measure the run or the code rather than the documents: timings, the cache
#: key (a hash of the code, meant to change with it), the outputs' own hashes (each output is
#: fingerprinted here in its own right) and their sizes and modification times.
VOLATILE = {"timings", "last_run", "cache_key", "outputs", "output_stats", "valuelib_version"}
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def fingerprint(path: Path) -> str:
    """The sha256 of a file's bytes, or of its deterministic part for manifests and notebooks."""
    data = path.read_bytes()
    if path.suffix == ".ipynb":
        nb = json.loads(data)
        cells = [{"outputs": c.get("outputs", []), "cell_type": c.get("cell_type")}
                 for c in nb["cells"]]
        data = json.dumps(cells, sort_keys=True).encode()
    elif path.name.startswith("manifest") and path.suffix == ".json":
        data = json.dumps(_strip(json.loads(data)), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def render(work: Path, accounts: int, extra: list[str]) -> Path:
    """Demo warehouse and both audiences' renders under `work`; returns the output folder."""
    exe = Path(sys.executable).with_name("valuereview")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("VALUEREVIEW_DB", None)
    db, out = work / "warehouse.duckdb", work / "output"
    subprocess.run([exe, "demo-data", "--db", db, "--accounts", str(accounts)], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    for audience in ("customer", "internal"):
        subprocess.run([exe, "render", "--db", db, "--out", out, "--audience", audience, *extra],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    return out


def digest(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): fingerprint(p)
            for p in sorted(out.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=120, help="demo accounts (120)")
    ap.add_argument("--write", type=Path, help="write the digest to this file")
    ap.add_argument("--check", type=Path, help="compare with a digest written before")
    ap.add_argument("--keep", type=Path, help="render here instead of a temporary folder")
    ap.add_argument("--only", type=Path, help="fingerprint this output folder, do not render")
    ap.add_argument("render_args", nargs="*", help="passed to valuereview render (after --)")
    args = ap.parse_args(argv)
    if args.only:
        now = digest(args.only)
    else:
        with tempfile.TemporaryDirectory(prefix="vr-digest-") as tmp:
            work = args.keep or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            now = digest(render(work, args.accounts, args.render_args))
    text = "".join(f"{h}  {p}\n" for p, h in now.items())
    if args.write:
        args.write.write_text(text)
    if not args.check:
        if not args.write:
            sys.stdout.write(text)
        print(f"{len(now)} files fingerprinted", file=sys.stderr)
        return 0
    rows = (line.split("  ", 1) for line in args.check.read_text().splitlines() if line)
    before = {path.strip(): sha for sha, path in rows}
    differ = sorted(p for p in before.keys() & now.keys() if before[p] != now[p])
    gone, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
    for label, paths in (("differs", differ), ("missing", gone), ("new", new)):
        for p in paths:
            print(f"{label}: {p}")
    same = len(before.keys() & now.keys()) - len(differ)
    print(f"{same} of {len(before)} files identical", file=sys.stderr)
    return 1 if differ or gone or new else 0


if __name__ == "__main__":
    sys.exit(main())
