"""The forwarder: send pending statements to the boards' LRSs (``manage.py run_xapi_forwarder``).

Each pass, for each active LRS that is not backing off:

1. **Claim** up to ``batch_size`` pending forwarding rows with one conditional UPDATE (pending,
   due, unclaimed or lease expired). Two forwarders never hold the same row: the UPDATE
   re-checks the condition (SQLite runs one writer at a time; PostgreSQL re-evaluates the
   WHERE on the row it waited for), and each then reads back only the rows of its own token.
2. **Deliver** them (``studylog.xapi.delivery``): no request is started that could outlast the
   lease, so a live forwarder never races another one over a statement.
3. **Record** in one transaction, guarded by the claim token: delivered rows, dead letters with
   the LRS's answer, the rest released for a retry after the LRS's back-off; the LRS's health
   (failures, next retry with exponential back-off and jitter, an alert after 401/403).

A forwarder killed between 2 and 3 leaves its rows claimed until the lease ends; whoever claims
them next sends them again, and the LRS's answer (409, 204, or 200 without the id, read back)
shows they are there. Nothing is deleted: a delivered row stays as the record of delivery.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from dbtools import at_rest
from dbtools.reencrypt import EncryptedBytes
from dbtools.writelock import serialized_writes

from .conf import app_settings
from .models import Forwarding, ForwardingState, LrsEndpoint
from .xapi import delivery
from .xapi.client import LrsClient

logger = logging.getLogger("manabi.xapi")

PASSWORD_PURPOSE = b"lrs-password-at-rest"
# Declared to ``manage.py reencrypt_secrets`` by StudylogConfig.encrypted_fields.
LRS_PASSWORDS = EncryptedBytes(
    "studylog.LrsEndpoint", "password_encrypted", purpose=PASSWORD_PURPOSE
)
LEASE_MARGIN = 5.0  # seconds of a lease kept free for recording the outcome


def encrypt_password(password: str) -> bytes:
    return at_rest.encrypt(password.encode(), purpose=PASSWORD_PURPOSE) if password else b""


def decrypt_password(token: bytes | memoryview) -> str:
    return at_rest.decrypt(token, purpose=PASSWORD_PURPOSE).decode() if bytes(token) else ""


def set_password(lrs: LrsEndpoint, password: str) -> None:
    lrs.password_encrypted = encrypt_password(password)


def backoff(failures: int) -> float:
    """Exponential back-off with full jitter: up to retry × 2^(n-1), capped."""
    ceiling = min(
        app_settings.retry_max_seconds, app_settings.retry_seconds * 2 ** max(0, failures - 1)
    )
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not security)


@dataclass
class PassResult:
    delivered: int = 0
    dead: int = 0
    released: int = 0
    claimed: int = 0


class Forwarder:
    """Forward statements until stopped. ``now`` is the clock (tests move it)."""

    def __init__(
        self,
        *,
        name: str | None = None,
        now: Callable[[], datetime.datetime] = timezone.now,
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._now = now
        self._stopping = threading.Event()
        self._clients: dict[int, tuple[tuple[object, ...], LrsClient]] = {}

    def request_stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        """Forward until ``request_stop``; errors are logged and retried, never raised."""
        errors = 0
        try:
            while not self._stopping.is_set():
                try:
                    busy = self.tick()
                    errors = 0
                except Exception:
                    errors += 1
                    delay = min(30.0, app_settings.poll_seconds * 2**errors)
                    logger.exception(
                        "xAPI forwarder %s: pass failed; retry in %.1fs", self.name, delay
                    )
                    connection.close()
                    self._stopping.wait(delay)
                    continue
                if not busy:
                    self._stopping.wait(app_settings.poll_seconds)
        finally:
            for _, client in self._clients.values():
                client.close()
            connections.close_all()

    def tick(self) -> bool:
        """One pass over the LRSs; True when a batch was full (more may be waiting)."""
        now = self._now()
        full = False
        endpoints = LrsEndpoint.objects.filter(active=True).filter(
            Q(retry_at__isnull=True) | Q(retry_at__lte=now)
        )
        for lrs in endpoints:
            if self._stopping.is_set():
                break
            result = self.forward(lrs)
            full = full or (result.claimed >= lrs.batch_size and result.released == 0)
        return full

    # --- one LRS ------------------------------------------------------------------------------

    def client_for(self, lrs: LrsEndpoint) -> LrsClient:
        key = (
            lrs.statements_url,
            lrs.username,
            bytes(lrs.password_encrypted),
            lrs.xapi_version,
            lrs.connect_timeout,
            lrs.read_timeout,
        )
        cached = self._clients.get(lrs.pk)
        if cached is not None and cached[0] == key:
            return cached[1]
        if cached is not None:
            cached[1].close()
        client = LrsClient(
            lrs.statements_url,
            username=lrs.username,
            password=decrypt_password(lrs.password_encrypted),
            version=lrs.xapi_version,
            connect_timeout=lrs.connect_timeout,
            read_timeout=lrs.read_timeout,
        )
        self._clients[lrs.pk] = (key, client)
        return client

    @staticmethod
    def lease_seconds(lrs: LrsEndpoint) -> float:
        """The claim's lease: the setting, stretched for an LRS whose timeouts would not let
        one request (and a read-back) finish inside it with a margin."""
        per_request = lrs.connect_timeout + lrs.read_timeout
        return max(app_settings.lease_seconds, 2 * per_request + 2 * LEASE_MARGIN)

    def _claim(self, lrs: LrsEndpoint, token: str) -> list[Forwarding]:
        now = self._now()
        due = Q(lrs=lrs, state=ForwardingState.PENDING, available_at__lte=now) & (
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        candidates = list(
            Forwarding.objects.filter(due)
            .order_by("id")
            .values_list("id", flat=True)[: lrs.batch_size]
        )
        if not candidates:  # a read: no write lock while there is nothing to do
            return []
        lease = datetime.timedelta(seconds=self.lease_seconds(lrs))
        with serialized_writes(), transaction.atomic():
            Forwarding.objects.filter(due, id__in=candidates).update(
                claimed_by=self.name,
                claim_token=token,
                claimed_until=now + lease,
                attempts=F("attempts") + 1,
            )
        return list(
            Forwarding.objects.filter(id__in=candidates, claim_token=token)
            .select_related("statement")
            .only("id", "statement__id", "statement__body")
            .order_by("id")
        )

    def forward(self, lrs: LrsEndpoint) -> PassResult:
        """Claim one batch for ``lrs``, deliver it, record the outcome."""
        token = uuid.uuid4().hex
        rows = self._claim(lrs, token)
        result = PassResult(claimed=len(rows))
        if not rows:
            return result
        client = self.client_for(lrs)
        items = [delivery.Item(r.statement.id, bytes(r.statement.body)) for r in rows]
        # Start no request that could outlast the lease (with a margin for recording).
        per_request = lrs.connect_timeout + lrs.read_timeout
        deadline = time.monotonic() + self.lease_seconds(lrs) - LEASE_MARGIN

        def may_continue() -> bool:
            return not self._stopping.is_set() and time.monotonic() + per_request < deadline

        report = delivery.deliver(client, items, may_continue=may_continue)
        self._record(lrs, rows, token, report, result)
        return result

    def _record(
        self,
        lrs: LrsEndpoint,
        rows: list[Forwarding],
        token: str,
        report: delivery.Report,
        result: PassResult,
    ) -> None:
        now = self._now()
        by_statement = {r.statement.id: r for r in rows}
        delivered_by_status: dict[int, list[int]] = {}
        for statement_id, status in report.delivered.items():
            delivered_by_status.setdefault(status, []).append(by_statement[statement_id].pk)
        left = [
            r.pk
            for r in rows
            if r.statement.id not in report.delivered and r.statement.id not in report.dead
        ]
        mine = Forwarding.objects.filter(claim_token=token)
        health: dict[str, object] = {}
        if report.halt in (delivery.Halt.NONE, delivery.Halt.OUT_OF_TIME):
            retry_at = now + datetime.timedelta(seconds=backoff(1))
            if report.delivered or report.dead:
                health = {"failures": 0, "retry_at": None, "alert": "", "last_success_at": now}
        elif report.halt == delivery.Halt.TRANSIENT:
            failures = lrs.failures + 1
            delay = backoff(failures)
            if report.halt_answer.startswith("timeout"):
                # The LRS may still be storing what timed out: resending before it is done
                # could race it (an LRS without atomic id checks would store both).
                delay = max(delay, lrs.read_timeout)
            retry_at = now + datetime.timedelta(seconds=delay)
            health = {"failures": failures, "retry_at": retry_at, "last_error": report.halt_answer}
        else:  # STOP: a person must look (credentials, URL)
            retry_at = now + datetime.timedelta(seconds=app_settings.alert_retry_seconds)
            health = {
                "failures": lrs.failures + 1,
                "retry_at": retry_at,
                "alert": report.halt_answer,
                "last_error": report.halt_answer,
            }
        if report.halt == delivery.Halt.OUT_OF_TIME:
            retry_at = now  # not a failure: the next pass takes them at once
        with serialized_writes(), transaction.atomic():
            for status, delivered in delivered_by_status.items():
                # last_status: how the LRS confirmed it (200, 204, or 409 read back)
                result.delivered += mine.filter(id__in=delivered).update(
                    state=ForwardingState.DELIVERED,
                    delivered_at=now,
                    claim_token="",
                    claimed_until=None,
                    last_status=status,
                    last_error="",
                )
            for statement_id, answer in report.dead.items():
                result.dead += mine.filter(id=by_statement[statement_id].pk).update(
                    state=ForwardingState.DEAD,
                    claim_token="",
                    claimed_until=None,
                    last_error=answer,
                )
            if left:
                result.released = mine.filter(id__in=left).update(
                    claim_token="",
                    claimed_until=None,
                    available_at=retry_at,
                    last_error=report.halt_answer,
                )
            if health:
                LrsEndpoint.objects.filter(pk=lrs.pk).update(**health)
        if report.dead:
            logger.warning(
                "xAPI forwarder %s: %d statement(s) refused for good by %s (dead letters)",
                self.name,
                len(report.dead),
                lrs,
            )
        if report.halt == delivery.Halt.STOP:
            logger.error(
                "xAPI forwarder: LRS %s needs an administrator: %s", lrs, report.halt_answer
            )
        elif report.halt == delivery.Halt.TRANSIENT:
            logger.warning("xAPI forwarder: LRS %s failed: %s", lrs, report.halt_answer)


def replay(*, lrs: LrsEndpoint, forwarding_ids: list[int] | None = None) -> int:
    """Send dead letters again (all of the LRS's, or the given ones); return how many."""
    rows = Forwarding.objects.filter(lrs=lrs, state=ForwardingState.DEAD)
    if forwarding_ids is not None:
        rows = rows.filter(id__in=forwarding_ids)
    with serialized_writes(), transaction.atomic():
        count = rows.update(
            state=ForwardingState.PENDING, available_at=timezone.now(), claim_token="", attempts=0
        )
    return count


def resume(*, lrs: LrsEndpoint) -> None:
    """Clear an LRS's alert and back-off: try it at the next pass."""
    with serialized_writes(), transaction.atomic():
        LrsEndpoint.objects.filter(pk=lrs.pk).update(alert="", retry_at=None, failures=0)
