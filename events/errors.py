"""Errors of the outbox."""

from __future__ import annotations


class EventsError(Exception):
    """Base of the outbox's errors."""


class NotInTransaction(EventsError):
    """``publish`` was called outside ``transaction.atomic()``: the event would not commit
    (or roll back) together with the write it records."""
