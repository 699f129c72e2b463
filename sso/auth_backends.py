"""Authentication backends whose per-request user load is one plain SELECT.

``AuthenticationMiddleware`` asks the backend that signed the user in (its dotted path is kept
in the session) for the user row on every request: ``get_user(pk)``. Django's
``ModelBackend`` builds that query through the ORM, which cost a fifth of a full LTI launch's
server CPU (bench/launch_flow.py --profile). These backends are ``ModelBackend`` and allauth's
``AuthenticationBackend`` unchanged (sign-in, permissions) except that ``get_user`` reads the
row with one hand-written SELECT of the user model's concrete columns and builds the instance
as the ORM does (the same database converters, ``Model.from_db``). Semantics are Django's:
users that may not authenticate (inactive) get None, and ``django.contrib.auth.get_user`` still
verifies the session's auth hash against the row's password. Use in AUTHENTICATION_BACKENDS in
place of the two classes they extend (as ``SESSION_ENGINE = "sso.sessions"`` does for sessions).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from allauth.account.auth_backends import AuthenticationBackend
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

if TYPE_CHECKING:
    from roster.models import User

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


@dataclass(frozen=True)
class _UserRead:
    """One user row by primary key on one connection: the SELECT, the attribute names in its
    column order, the converters the ORM applies to each column that has any, the primary key
    field and, for an integer key, the column's range."""

    sql: str
    attnames: Sequence[str]
    converters: Sequence[tuple[int, models.Expression, Sequence[Converter]]]
    pk: models.Field[Any, Any]
    pk_range: tuple[int | None, int | None]


_reads: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _UserRead] = weakref.WeakKeyDictionary()


def _user_read(connection: BaseDatabaseWrapper) -> _UserRead:
    """Build (once per connection) the read of one user row, from the model's concrete fields."""
    read = _reads.get(connection)
    if read is None:
        meta = get_user_model()._meta
        quote = connection.ops.quote_name
        table, fields, pk = meta.db_table, meta.concrete_fields, meta.pk
        converters = []
        for index, field in enumerate(fields):
            col = field.get_col(table)
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if convs:
                converters.append((index, col, convs))
        # Concrete fields are those with a column.
        columns = ", ".join(quote(cast(str, field.column)) for field in fields)
        read = _UserRead(
            sql=(
                f"SELECT {columns} FROM {quote(table)} "  # noqa: S608  (no input in the text)
                f"WHERE {quote(cast(str, pk.column))} = %s"
            ),
            attnames=[field.attname for field in fields],
            converters=converters,
            pk=pk,
            pk_range=(
                connection.ops.integer_field_range(pk.get_internal_type())
                if isinstance(pk, models.IntegerField)
                else (None, None)
            ),
        )
        _reads[connection] = read
    return read


def _pk_param(user_id: Any, read: _UserRead, connection: BaseDatabaseWrapper) -> Any:
    """The primary key as the ORM's ``pk=`` lookup sends it, or None when no row can match
    (a value the field rejects, None, or an integer outside the column's range)."""
    try:
        value = read.pk.to_python(user_id)
    except ValidationError:
        return None
    if value is None:
        return None
    low, high = read.pk_range
    if isinstance(value, int) and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        return None
    return read.pk.get_db_prep_value(value, connection, prepared=False)


def read_user(user_id: Any) -> User | None:
    """Return the user whose primary key is ``user_id`` (one SELECT), or None."""
    user_model = get_user_model()
    db = router.db_for_read(user_model)
    connection = connections[db]
    read = _user_read(connection)
    param = _pk_param(user_id, read, connection)
    if param is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(read.sql, [param])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, col, convs in read.converters:
        for convert in convs:
            values[index] = convert(values[index], col, connection)
    return user_model.from_db(db, read.attnames, values)


class RosterModelBackend(ModelBackend):
    """``django.contrib.auth.backends.ModelBackend`` with the cheap per-request user load."""

    def get_user(self, user_id: Any) -> User | None:
        """The active user ``user_id`` (``ModelBackend.get_user`` with one plain SELECT)."""
        user = read_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id: Any) -> User | None:
        return await sync_to_async(self.get_user)(user_id)


class RosterAccountBackend(RosterModelBackend, AuthenticationBackend):
    """allauth's ``AuthenticationBackend`` (its sign-in) with the cheap per-request user load."""
