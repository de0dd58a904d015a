"""terms.files: every output is written whole or not at all, with the mode open() would give it."""

from __future__ import annotations

import os
import stat

import pytest

from terms.files import atomic_writer, write_atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "studies.ttl", b"x")
        os.umask(0o027)
        write_atomic(tmp_path / "private.ttl", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "studies.ttl") == 0o644  # readable by a triple store running as another user
    assert _mode(tmp_path / "private.ttl") == 0o640


def test_a_replaced_file_keeps_its_own_mode(tmp_path):
    path = tmp_path / "kept.ttl"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o600


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "studies.ttl"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(path) as fh:
        fh.write(b"half")
        raise RuntimeError("the build failed half-way")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["studies.ttl"]
