"""The configuration generation: one counter that database triggers bump on every write to the
tables the per-process configuration cache reads (``lti_platform.config_cache``).

Triggers see every writer — ``save()``, ``queryset.update()``, raw SQL, the admin, another
worker process or a command — so a process that reads the counter knows whether anything it
keeps may have changed. SQLite gets one row-level trigger per table and operation; PostgreSQL
one statement-level trigger per table calling one function. Migration 0004 installs them, and
so does every ``migrate`` afterwards (``post_migrate``): SQLite drops a table's triggers when a
later migration rebuilds that table.
"""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "lti_platform_configgeneration"  # ConfigGeneration; one row, id 1
READ_SQL = 'SELECT "value" FROM "lti_platform_configgeneration" WHERE "id" = 1'

ALL = ("INSERT", "UPDATE", "DELETE")
# What the cache reads, and which writes bump the counter. Access tokens are inserted on every
# token request and a new token is in no cache (unknown tokens are not kept): only their update
# and delete count.
WATCHED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("tools_registry", "Tool", ALL),
    ("tools_registry", "Registration", ALL),
    ("tools_registry", "Deployment", ALL),
    ("tools_registry", "Placement", ALL),
    ("tools_registry", "BoardApproval", ALL),
    ("roster", "Org", ALL),
    ("roster", "SchoolClass", ALL),
    ("lti_platform", "LineItem", ALL),
    ("lti_platform", "AccessToken", ("UPDATE", "DELETE")),
)

# The row is created if missing (a flushed test database): an upsert, never a lost bump.
_CREATE_ROW = (
    'INSERT INTO "lti_platform_configgeneration" ("id", "value") VALUES (1, 0) '
    "ON CONFLICT DO NOTHING"
)
_BUMP = (
    'INSERT INTO "lti_platform_configgeneration" ("id", "value") VALUES (1, 1) '
    'ON CONFLICT ("id") DO UPDATE SET "value" = "lti_platform_configgeneration"."value" + 1'
)
_PG_FUNCTION = "manabi_bump_config_generation"


class UnsupportedDatabase(Exception):
    """The configuration cache needs triggers this database vendor has none written for."""


def watched_tables(apps: Apps) -> list[tuple[str, tuple[str, ...]]]:
    """``(db_table, operations)`` of every watched model in ``apps`` (historical or real; a
    model a historical state does not have yet is left out: ``post_migrate`` adds it)."""
    tables = []
    for app_label, model, operations in WATCHED:
        try:
            tables.append((apps.get_model(app_label, model)._meta.db_table, operations))
        except LookupError:
            continue
    return tables


def _sqlite_trigger(table: str, operation: str) -> str:
    return f'"manabi_config_gen_{table}_{operation.lower()}"'


def install_sql(vendor: str, tables: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """Statements that create the counter row (if missing) and every trigger; idempotent."""
    if vendor == "sqlite":
        statements = [_CREATE_ROW]
        for table, operations in tables:
            for operation in operations:
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {_sqlite_trigger(table, operation)} "
                    f'AFTER {operation} ON "{table}" FOR EACH ROW BEGIN {_BUMP}; END'
                )
        return statements
    if vendor == "postgresql":
        statements = [
            _CREATE_ROW,
            f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {_BUMP}; RETURN NULL; END $$",
        ]
        for table, operations in tables:
            events = " OR ".join((*operations, "TRUNCATE"))
            statements += [
                f'DROP TRIGGER IF EXISTS "manabi_config_gen" ON "{table}"',
                f'CREATE TRIGGER "manabi_config_gen" AFTER {events} ON "{table}" '
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()",
            ]
        return statements
    raise UnsupportedDatabase(
        f"no configuration-generation triggers for {vendor!r}: write them in "
        "lti_platform/generation.py, or the per-process caches would miss changes"
    )


def drop_sql(vendor: str, tables: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {_sqlite_trigger(table, operation)}"
            for table, operations in tables
            for operation in operations
        ]
    if vendor == "postgresql":
        return [
            *(f'DROP TRIGGER IF EXISTS "manabi_config_gen" ON "{table}"' for table, _ in tables),
            f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()",
        ]
    raise UnsupportedDatabase(f"no configuration-generation triggers for {vendor!r}")


def install(connection: BaseDatabaseWrapper, apps: Apps) -> None:
    """Create the counter row and the triggers on ``connection`` (idempotent)."""
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor, watched_tables(apps)):
            cursor.execute(statement)


def drop(connection: BaseDatabaseWrapper, apps: Apps) -> None:
    with connection.cursor() as cursor:
        for statement in drop_sql(connection.vendor, watched_tables(apps)):
            cursor.execute(statement)


def reinstall_after_migrate(*, using: str, apps: Apps | None = None, **_: Any) -> None:
    """``post_migrate`` (after ``migrate`` and ``flush``): put back triggers a table rebuild
    dropped (SQLite), and the row."""
    from django.apps import apps as global_apps
    from django.db import connections

    apps = apps or global_apps
    try:
        apps.get_model("lti_platform", "ConfigGeneration")
    except LookupError:  # migrated back before 0004
        return
    install(connections[using], apps)
