"""The data directory (``MANABI_DATA_DIR``) and what the settings create in it, private from the
start: the directory 0700, the generated secrets and the SQLite database 0600.

A file is written to a temporary file opened ``O_CREAT | O_EXCL`` with mode 0600 and then
hard-linked into place: there is no moment at which it exists with a wider mode (a chmod after
the write leaves one), a reader never sees it half-written, and of two processes starting at
once (gunicorn workers) the first link wins and both read the same value — a rename would let
the second replace a secret the first already uses. Plain Python: the settings import it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """Take group and other permissions off ``path`` if this user owns it."""
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.geteuid():
        path.chmod(mode)


def private_dir(path: Path) -> Path:
    """Create ``path`` 0700 (or tighten it to 0700 if this user owns it); return it."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def create_private_file(path: Path, content: bytes = b"") -> bool:
    """Create ``path`` with mode 0600 holding ``content`` unless it exists; return True if this
    call created it (False: another process or an earlier run did, and its content stays)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink()


def persistent_value(path: Path, make: str) -> str:
    """Return the value kept in ``path``, creating the file (0600) with ``make`` the first time."""
    if not path.exists():
        create_private_file(path, make.encode())
    return path.read_text().strip()


def sqlite_database(name: str) -> str:
    """Return the database path ``name``, its file created 0600 first if it does not exist.

    SQLite would create it 0644 (with the default umask); its ``-wal`` and ``-shm`` files take
    the database file's mode, and an empty file is an empty database. An existing database of
    this user's is tightened to 0600, its ``-wal`` and ``-shm`` too.
    """
    path = Path(name)
    if name == ":memory:" or name.startswith("file:") or not path.parent.is_dir():
        return name  # SQLite makes no file, or reports the missing directory itself
    if not path.exists():
        create_private_file(path)
    for existing in (path, Path(name + "-wal"), Path(name + "-shm")):
        if existing.exists():
            _tighten(existing, PRIVATE_FILE)
    return name
