"""valuelib.render.tempdirs: temporary folders where the render's socket paths fit."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

from valuelib.render import tempdirs


@pytest.fixture
def tmpdir_is(monkeypatch):
    """Set this process's temporary folder (what TMPDIR sets), and forget earlier warnings."""
    monkeypatch.setattr(tempdirs, "_warned", set())

    def set_to(folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setattr(tempfile, "tempdir", str(folder))
        return str(folder)

    return set_to


def test_a_folder_with_room_for_the_sockets_is_the_one_used(tmpdir_is, caplog):
    own = tmpdir_is(Path(tempfile.mkdtemp(prefix="s-", dir="/tmp")))
    try:
        room = tempdirs.SUN_PATH_MAX - len(own)
        with caplog.at_level(logging.WARNING):
            assert tempdirs.socket_root(room) == own  # exactly full
        assert caplog.records == []
    finally:
        os.rmdir(own)


def test_a_folder_too_long_gives_way_to_a_short_one_with_one_warning(tmpdir_is, tmp_path,
                                                                     caplog, monkeypatch):
    short = tmp_path.parent / "s"
    short.mkdir(exist_ok=True)
    monkeypatch.setattr(tempdirs, "FALLBACKS", ("/nonexistent", str(short)))
    own = tmpdir_is(tmp_path / ("x" * 60))
    depth = tempdirs.SUN_PATH_MAX - len(own) + 1  # one byte too many
    with caplog.at_level(logging.WARNING):
        assert tempdirs.socket_root(depth) == str(short)
        assert tempdirs.socket_root(depth) == str(short)
    assert [r.getMessage() for r in caplog.records] == [
        f"the temporary folder {own!r} (TMPDIR) is too long for the Unix sockets the render "
        f"makes under it (a socket's path holds at most 107 bytes): using {short} instead; "
        "set TMPDIR to a shorter folder to choose another"]


def test_no_folder_short_enough_is_an_error_naming_tmpdir(tmpdir_is, tmp_path, monkeypatch):
    monkeypatch.setattr(tempdirs, "FALLBACKS", ("/nonexistent", str(tmp_path)))
    own = tmpdir_is(tmp_path / ("x" * 80))
    with pytest.raises(tempdirs.TempDirTooLongError) as err:
        tempdirs.socket_root(tempdirs.SUN_PATH_MAX - len(str(tmp_path)) + 1)
    assert str(err.value).startswith(f"the temporary folder {own!r} (TMPDIR) is too long")
    assert str(err.value).endswith(f"and none of /nonexistent, {tmp_path} is a writable folder "
                                   "short enough: set TMPDIR to a shorter folder")
