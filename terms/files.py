"""Writing a file whole or not at all: every output of the tool goes through `atomic_writer`."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _new_file_mode(path: Path) -> int:
    """The mode `open(path, "w")` would leave: the file's own if it exists, else 0o666 less the umask.

    mkstemp creates its file 0600; kept, a rebuilt data/studies.ttl would be unreadable to a triple
    store or web server running as another user."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary file in `path`'s directory; on success fsync it and rename it over `path`.

    Readers never see a partial file, and a failure (any exception) leaves the old file as it was
    and no temporary file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see atomic_writer)."""
    with atomic_writer(path) as fh:
        fh.write(data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
