"""The data directory is private from the start: 0700, and every file the settings, migrate and
SQLite create in it 0600 — with the usual umask (022), not thanks to a strict one."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from config import datadir
from tests.serving import MANAGE_TIMEOUT, REPO_ROOT


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fresh_env(data_dir: Path) -> dict[str, str]:
    """No MANABI_SECRET_KEY or MANABI_PLATFORM_GUID: both are generated into the directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANABI_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", MANABI_DATA_DIR=str(data_dir))
    return env


def test_migrate_in_a_fresh_data_directory_leaves_it_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=REPO_ROOT,
        env=fresh_env(data_dir),
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT,
        check=False,
        umask=0o022,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    database = data_dir / "manabi.sqlite3"
    # SQLite makes -wal and -shm while a connection is open (and removes them at the last close).
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        connection.execute("UPDATE django_migrations SET app = app")
        connection.commit()
        files = {p.relative_to(data_dir).as_posix(): mode(p) for p in data_dir.rglob("*")}
    finally:
        connection.close()
    assert mode(data_dir) == 0o700
    assert {"secret_key", "platform_guid", "manabi.sqlite3"} <= set(files)
    assert {"manabi.sqlite3-wal", "manabi.sqlite3-shm"} <= set(files)
    assert files == dict.fromkeys(files, 0o600)


def test_a_value_is_created_once_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    assert datadir.create_private_file(path, b"first") is True
    assert datadir.create_private_file(path, b"second") is False  # a second process starting
    assert datadir.persistent_value(path, "third") == "first"
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]  # no temporary left


def test_an_existing_wide_directory_and_database_are_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "manabi.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    datadir.private_dir(data_dir)
    assert datadir.sqlite_database(str(database)) == str(database)
    assert (mode(data_dir), mode(database)) == (0o700, 0o600)
