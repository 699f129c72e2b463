"""A board administrator's study-log actions: the board's LRSs, their dead letters, and the
LRS credentials of the tools deployed in the board.

Who administers a board is ``roster.administration``'s rule; every lookup here answers
``NotAdministered`` the same way for a missing and a forbidden object. Each action is atomic,
takes a keyword-only ``acting_user`` and writes an audit line on ``manabi.audit`` after commit
(who, what, never a secret). The reads count forwardings through the partial indexes of
``Forwarding`` (pending, dead, delivered) only.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit import trail
from dbtools.writelock import serialized_writes
from roster import administration
from roster.administration import AnyUser, NotAdministered
from roster.models import Org, OrgType, User
from tools_registry.models import Registration

from . import forwarder
from .lrs.auth import issue_credential
from .models import (
    Forwarding,
    ForwardingState,
    LrsCredential,
    LrsEndpoint,
    Statement,
    XapiVersion,
)

audit = logging.getLogger("manabi.audit")

BATCH_SIZE_MAX = 1000
# connect + read must stay well inside the forwarder's lease (300 s): it starts no request
# that could outlast it, so larger timeouts would stop the LRS being sent anything.
CONNECT_TIMEOUT_MAX = 60.0
READ_TIMEOUT_MAX = 120.0
DEAD_LETTERS_SHOWN = 100
RECENT = datetime.timedelta(hours=24)
HISTORY_BATCH = 2000  # statements per transaction when history is queued for an LRS


class LrsSettingsInvalid(Exception):
    """The LRS settings break a rule; ``errors`` maps each field to its messages."""

    code = "invalid"
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, errors: dict[str, list[str | Promise]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# --- lookups ---------------------------------------------------------------------------------


def board_of(acting_user: AnyUser, board_id: uuid.UUID | str) -> Org:
    """The administered board with this sourcedId; ``NotAdministered`` when missing, not a
    board, or not the acting user's (a school administrator administers no board)."""
    return administration.administered_org(acting_user, board_id, org_type=OrgType.DISTRICT)


def lrs_of(board: Org, lrs_id: int) -> LrsEndpoint:
    """The board's LRS with this pk (``board`` from ``board_of``)."""
    try:
        return LrsEndpoint.objects.get(board=board, pk=lrs_id)
    except LrsEndpoint.DoesNotExist as e:
        raise NotAdministered from e


def board_tools(board: Org) -> QuerySet[Registration]:
    """The active registrations with an active deployment in the board or one of its schools."""
    return (
        Registration.objects.filter(
            is_active=True,
            deployments__is_active=True,
            deployments__org__in=Org.objects.filter(pk=board.pk)
            | Org.objects.filter(parent=board, type=OrgType.SCHOOL),
        )
        .select_related("tool")
        .distinct()
        .order_by("tool__name", "pk")
    )


def tool_of(board: Org, registration_id: int) -> Registration:
    try:
        return board_tools(board).get(pk=registration_id)
    except Registration.DoesNotExist as e:
        raise NotAdministered from e


def credential_of(board: Org, credential_id: int) -> LrsCredential:
    """One of the credentials the board issued, to a tool still deployed in it."""
    try:
        return LrsCredential.objects.get(
            pk=credential_id, board=board, registration__in=board_tools(board)
        )
    except LrsCredential.DoesNotExist as e:
        raise NotAdministered from e


def _check(acting_user: AnyUser, board: Org) -> User:
    if not isinstance(acting_user, User) or not administration.administers(acting_user, board):
        raise NotAdministered
    if board.type != OrgType.DISTRICT:
        raise NotAdministered
    return acting_user


# --- what the page reads ---------------------------------------------------------------------


class Health:
    OK = "ok"
    WAITING = "waiting"
    ALERT = "alert"
    OFF = "off"


@dataclass(frozen=True)
class LrsStatus:
    lrs: LrsEndpoint
    health: str
    backlog: int
    lag: datetime.timedelta | None  # age of the oldest pending statement
    delivered_recently: int  # in the last 24 hours
    dead: int

    @property
    def can_resume(self) -> bool:
        return self.lrs.active and self.health in (Health.WAITING, Health.ALERT)


def health_of(lrs: LrsEndpoint) -> str:
    if not lrs.active:
        return Health.OFF
    if lrs.alert:
        return Health.ALERT
    if lrs.failures or lrs.retry_at is not None:
        return Health.WAITING
    return Health.OK


def lrs_statuses(
    *, acting_user: AnyUser, board: Org, now: datetime.datetime | None = None
) -> list[LrsStatus]:
    """The board's LRSs with their health and counts (three grouped queries, each on one of
    the partial indexes of ``Forwarding``)."""
    _check(acting_user, board)
    now = now or timezone.now()
    endpoints = list(LrsEndpoint.objects.filter(board=board).order_by("pk"))
    pks = [e.pk for e in endpoints]
    pending = {
        row["lrs"]: row
        for row in Forwarding.objects.filter(lrs__in=pks, state=ForwardingState.PENDING)
        .values("lrs")
        .annotate(n=Count("id"), oldest=Min("created_at"))
    }
    dead = dict(
        Forwarding.objects.filter(lrs__in=pks, state=ForwardingState.DEAD)
        .values("lrs")
        .annotate(n=Count("id"))
        .values_list("lrs", "n")
    )
    delivered = dict(
        Forwarding.objects.filter(
            lrs__in=pks, state=ForwardingState.DELIVERED, delivered_at__gte=now - RECENT
        )
        .values("lrs")
        .annotate(n=Count("id"))
        .values_list("lrs", "n")
    )
    statuses = []
    for lrs in endpoints:
        row = pending.get(lrs.pk)
        backlog = int(row["n"]) if row is not None else 0
        oldest = row["oldest"] if row is not None else None
        statuses.append(
            LrsStatus(
                lrs,
                health_of(lrs),
                backlog,
                max(datetime.timedelta(0), now - oldest) if oldest is not None else None,
                int(delivered.get(lrs.pk, 0)),
                int(dead.get(lrs.pk, 0)),
            )
        )
    return statuses


def dead_letters(*, acting_user: AnyUser, lrs: LrsEndpoint) -> list[Forwarding]:
    """The LRS's newest dead letters (at most ``DEAD_LETTERS_SHOWN``), with their statement's
    id and verb."""
    _check(acting_user, lrs.board)
    return list(
        Forwarding.objects.filter(lrs=lrs, state=ForwardingState.DEAD)
        .select_related("statement")
        .only(
            "id",
            "attempts",
            "last_status",
            "last_error",
            "created_at",
            "statement__id",
            "statement__verb",
            "statement__timestamp",
        )
        .order_by("-id")[:DEAD_LETTERS_SHOWN]
    )


@dataclass(frozen=True)
class ToolCredentials:
    registration: Registration
    credentials: list[LrsCredential] = field(default_factory=list)


def tool_credentials(*, acting_user: AnyUser, board: Org) -> list[ToolCredentials]:
    """The tools deployed in the board with the active LRS credentials the board issued them."""
    _check(acting_user, board)
    tools = list(board_tools(board))
    by_tool: dict[int, list[LrsCredential]] = {}
    rows = LrsCredential.objects.filter(
        board=board, active=True, registration__in=[t.pk for t in tools]
    ).order_by("created_at", "pk")
    for row in rows:
        by_tool.setdefault(row.registration_id, []).append(row)
    return [ToolCredentials(t, by_tool.get(t.pk, [])) for t in tools]


# --- validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LrsSettings:
    """What an administrator sets. ``password`` None or "" leaves the stored one unchanged."""

    name: str
    url: str
    username: str = ""
    password: str | None = None
    xapi_version: str = XapiVersion.V1_0_3
    batch_size: int = 200
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_errors(url: str) -> list[str | Promise]:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return [_("http:// か https:// で始まる URL を入力してください。")]
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return [_("URL に認証情報を含めないでください（ユーザー名とパスワードの欄を使います）。")]
    if parts.query or parts.fragment:
        return [_("URL に ? や # の部分は付けないでください。")]
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        return [_("https の URL にしてください（http はこのサーバー自身 localhost だけです）。")]
    return []


def _validate(values: LrsSettings, current: LrsEndpoint | None) -> None:
    errors: dict[str, list[str | Promise]] = {}
    if not values.name.strip():
        errors["name"] = [_("名称を入力してください。")]
    elif len(values.name) > 200:
        errors["name"] = [_("名称は200文字までです。")]
    url_errors: list[str | Promise] = (
        [_("URL は500文字までです。")] if len(values.url) > 500 else _url_errors(values.url)
    )
    if url_errors:
        errors["url"] = url_errors
    if len(values.username) > 200:
        errors["username"] = [_("ユーザー名は200文字までです。")]
    if values.xapi_version not in XapiVersion.values:
        errors["xapi_version"] = [_("xAPI バージョンは 1.0.3 か 2.0.0 を選んでください。")]
    if not 1 <= values.batch_size <= BATCH_SIZE_MAX:
        errors["batch_size"] = [_("一度に送る件数は1から1000までです。")]
    if not 0 < values.connect_timeout <= CONNECT_TIMEOUT_MAX:
        errors["connect_timeout"] = [_("接続タイムアウトは0秒より長く、60秒までです。")]
    if not 0 < values.read_timeout <= READ_TIMEOUT_MAX:
        errors["read_timeout"] = [_("応答タイムアウトは0秒より長く、120秒までです。")]
    if (
        current is not None
        and not values.password
        and bytes(current.password_encrypted)
        and "url" not in errors
        and urllib.parse.urlsplit(values.url).netloc.lower()
        != urllib.parse.urlsplit(current.url).netloc.lower()
    ):
        # The stored password is not sent to another host unless someone types it again.
        errors["password"] = [_("送信先のホストを変えるときは、パスワードも入力してください。")]
    if errors:
        raise LrsSettingsInvalid(errors)


def _apply(lrs: LrsEndpoint, values: LrsSettings) -> list[str]:
    """Set the fields; return the names of those that changed (``password`` for a new one)."""
    changed = []
    for name in (
        "name",
        "url",
        "username",
        "xapi_version",
        "batch_size",
        "connect_timeout",
        "read_timeout",
    ):
        value = getattr(values, name)
        value = value.strip() if isinstance(value, str) else value
        if getattr(lrs, name) != value:
            setattr(lrs, name, value)
            changed.append(name)
    if values.password:
        forwarder.set_password(lrs, values.password)
        changed.append("password")
    return changed


def _after_commit(message: str, *args: object) -> None:
    transaction.on_commit(lambda: audit.info(message, *args))


def _settings_of(lrs: LrsEndpoint) -> dict[str, object]:
    """An LRS's settings as the audit trail keeps them (never the password)."""
    return {
        "name": lrs.name,
        "url": lrs.url,
        "username": lrs.username,
        "xapi_version": lrs.xapi_version,
        "batch_size": lrs.batch_size,
        "connect_timeout": lrs.connect_timeout,
        "read_timeout": lrs.read_timeout,
        "active": lrs.active,
    }


def _trail(
    user: User,
    action: str,
    target: object,
    org: Org,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    """One audit event (inside the action's transaction, or in one of its own)."""
    with transaction.atomic():
        trail.record(actor=user, action=action, target=target, org=org, before=before, after=after)


# --- actions ---------------------------------------------------------------------------------


def add_lrs(*, acting_user: AnyUser, board: Org, values: LrsSettings) -> LrsEndpoint:
    """Add an LRS to the board: statements captured from now on are forwarded to it.
    Raises ``NotAdministered`` or ``LrsSettingsInvalid`` (nothing written)."""
    user = _check(acting_user, board)
    _validate(values, None)
    lrs = LrsEndpoint(board=board)
    _apply(lrs, values)
    with serialized_writes(), transaction.atomic():
        lrs.save()
        _trail(user, "lrs.added", lrs, board, after=_settings_of(lrs))
        _after_commit(
            "lrs added: by user %s, board %s, lrs %s: url %s, xAPI %s, batch %s, password %s",
            user.pk,
            board.pk,
            lrs.pk,
            lrs.url,
            lrs.xapi_version,
            lrs.batch_size,
            "set" if values.password else "none",
        )
    return lrs


def update_lrs(*, acting_user: AnyUser, lrs: LrsEndpoint, values: LrsSettings) -> list[str]:
    """Change an LRS's settings (a blank password keeps the stored one); return the names of
    the changed fields. Raises ``NotAdministered`` or ``LrsSettingsInvalid``."""
    user = _check(acting_user, lrs.board)
    _validate(values, lrs)
    before = _settings_of(lrs)
    changed = _apply(lrs, values)
    if not changed:
        return []
    with serialized_writes(), transaction.atomic():
        lrs.save(update_fields=["password_encrypted" if c == "password" else c for c in changed])
        after = _settings_of(lrs) | ({"password": "(changed)"} if "password" in changed else {})
        _trail(user, "lrs.changed", lrs, lrs.board, before=before, after=after)
        _after_commit(
            "lrs changed: by user %s, board %s, lrs %s: %s",
            user.pk,
            lrs.board_id,
            lrs.pk,
            ", ".join(f"url {lrs.url}" if c == "url" else c for c in changed),
        )
    return changed


def set_lrs_active(*, acting_user: AnyUser, lrs: LrsEndpoint, active: bool) -> None:
    """Stop (or restart) forwarding to an LRS. A stopped LRS gets no new statements; those
    already waiting stay until it is started again."""
    user = _check(acting_user, lrs.board)
    with serialized_writes(), transaction.atomic():
        LrsEndpoint.objects.filter(pk=lrs.pk).update(active=active)
        _trail(
            user,
            "lrs.activated" if active else "lrs.deactivated",
            lrs,
            lrs.board,
            before={"active": lrs.active},
            after={"active": active},
        )
        _after_commit(
            "lrs %s: by user %s, board %s, lrs %s",
            "activated" if active else "deactivated",
            user.pk,
            lrs.board_id,
            lrs.pk,
        )
    lrs.active = active


def replay_dead_letters(
    *, acting_user: AnyUser, lrs: LrsEndpoint, forwarding_ids: list[int] | None = None
) -> int:
    """Send the LRS's dead letters again (all, or the given ones of this LRS); return how
    many went back to pending."""
    user = _check(acting_user, lrs.board)
    count = forwarder.replay(lrs=lrs, forwarding_ids=forwarding_ids)  # atomic, serialized
    with serialized_writes():
        _trail(
            user,
            "lrs.dead_letters_replayed",
            lrs,
            lrs.board,
            after={"count": count, "which": "all" if forwarding_ids is None else forwarding_ids},
        )
    _after_commit(
        "lrs dead letters replayed: by user %s, board %s, lrs %s, %d (%s)",
        user.pk,
        lrs.board_id,
        lrs.pk,
        count,
        "all" if forwarding_ids is None else "selected",
    )
    return count


def resume_lrs(*, acting_user: AnyUser, lrs: LrsEndpoint) -> None:
    """Clear the LRS's alert and back-off: the next pass tries it."""
    user = _check(acting_user, lrs.board)
    forwarder.resume(lrs=lrs)  # atomic, serialized
    with serialized_writes():
        _trail(user, "lrs.resumed", lrs, lrs.board, before={"alert": lrs.alert[:200]})
    _after_commit(
        "lrs resumed: by user %s, board %s, lrs %s (alert was %r)",
        user.pk,
        lrs.board_id,
        lrs.pk,
        lrs.alert[:200],
    )


def issue_tool_credential(
    *, acting_user: AnyUser, board: Org, registration: Registration, label: str = ""
) -> tuple[LrsCredential, str]:
    """Issue LRS credentials to a tool deployed in the board; return them with the secret,
    to be shown once (only its SHA-256 is kept)."""
    user = _check(acting_user, board)
    if not board_tools(board).filter(pk=registration.pk).exists():
        raise NotAdministered
    with serialized_writes(), transaction.atomic():
        credential, secret = issue_credential(registration=registration, label=label.strip()[:200])
        LrsCredential.objects.filter(pk=credential.pk).update(board=board)
        credential.board = board
        _trail(
            user,
            "lrs_credential.issued",
            credential,
            board,
            after={
                "tool": registration.tool.name,
                "key": credential.key,
                "label": credential.label,
            },
        )
        _after_commit(
            "lrs credential issued: by user %s, board %s, registration %s, key %s",
            user.pk,
            board.pk,
            registration.pk,
            credential.key,
        )
    return credential, secret


def deactivate_tool_credential(
    *, acting_user: AnyUser, board: Org, credential: LrsCredential
) -> None:
    """Deactivate credentials the board issued: the tool's next request with them gets 401."""
    user = _check(acting_user, board)
    if credential.board_id != board.pk:
        raise NotAdministered
    with serialized_writes(), transaction.atomic():
        LrsCredential.objects.filter(pk=credential.pk).update(active=False)
        _trail(
            user,
            "lrs_credential.deactivated",
            credential,
            board,
            before={"active": True, "key": credential.key},
            after={"active": False},
        )
        _after_commit(
            "lrs credential deactivated: by user %s, board %s, registration %s, key %s",
            user.pk,
            board.pk,
            credential.registration_id,
            credential.key,
        )
    credential.active = False


# One batch of history for an LRS: the board's statements stored in (after, upto], in the
# order of (stored, id), as pending rows; the unique (statement, lrs) constraint skips the
# statements the LRS already has a row for (pending, delivered or dead alike).
_HISTORY_INSERT = (
    f"INSERT INTO {Forwarding._meta.db_table} "  # noqa: S608  (no input in the text)
    '("statement_id", "lrs_id", "state", "available_at", "claimed_by", "claim_token", '
    '"attempts", "last_error", "created_at") '
    f"SELECT \"id\", %s, 'pending', %s, '', '', 0, '', %s FROM {Statement._meta.db_table} "
    'WHERE "board_id" = %s AND "stored" >= %s '
    'AND ("stored" > %s OR ("stored" = %s AND "id" > %s)) '
    'AND ("stored" < %s OR ("stored" = %s AND "id" <= %s)) '
    'ON CONFLICT ("statement_id", "lrs_id") DO NOTHING'
)


def send_history(*, acting_user: AnyUser, lrs: LrsEndpoint, since: datetime.datetime) -> int:
    """Queue for ``lrs`` the board's statements stored since ``since`` that it has no row for
    yet (an LRS added later gets only what is captured after it); return how many were queued.

    Idempotent: a second call queues nothing. Runs in batches of ``HISTORY_BATCH``, each its
    own short write transaction (INSERT … SELECT), so capture is never held up for long; a call
    cut short is completed by calling again. The forwarder sends the rows in its usual way.
    """
    user = _check(acting_user, lrs.board)
    pk_field = Statement._meta.pk
    assert pk_field is not None  # noqa: S101
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    chosen = Statement.objects.filter(board_id=lrs.board_id, stored__gte=since).order_by(
        "stored", "id"
    )
    after: tuple[datetime.datetime, uuid.UUID] = (since, uuid.UUID(int=0))
    queued = 0
    while True:
        # The batch ends at its last statement; none: the rest is one (last) batch.
        rest = chosen.filter(Q(stored__gt=after[0]) | Q(stored=after[0], id__gt=after[1]))
        end = rest.values_list("stored", "id")[HISTORY_BATCH - 1 : HISTORY_BATCH].first()
        upto = end or (datetime.datetime.max.replace(tzinfo=datetime.UTC), uuid.UUID(int=0))
        params = [
            lrs.pk,
            now,
            now,
            lrs.board_id,
            ops.adapt_datetimefield_value(since),
            ops.adapt_datetimefield_value(after[0]),
            ops.adapt_datetimefield_value(after[0]),
            pk_field.get_db_prep_value(after[1], connection),
            ops.adapt_datetimefield_value(upto[0]),
            ops.adapt_datetimefield_value(upto[0]),
            pk_field.get_db_prep_value(upto[1], connection),
        ]
        with serialized_writes(), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_HISTORY_INSERT, params)
            queued += max(int(cursor.rowcount), 0)
        if end is None:
            break
        after = end
    _after_commit(
        "lrs history queued: by user %s, board %s, lrs %s: since %s, %d statements",
        user.pk,
        lrs.board_id,
        lrs.pk,
        since.isoformat(),
        queued,
    )
    return queued
