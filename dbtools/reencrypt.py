"""Put every secret stored with ``dbtools.at_rest`` under the encrypting key.

``manage.py reencrypt_secrets`` runs this after a key was added to the front of
``MANABI_KEY_ENCRYPTION_KEYS`` (or the list was introduced at all), so that the old key can be
removed; ``--check`` only counts.

The encrypted fields have one owner each: the app whose code encrypts them names them in its
``AppConfig`` with a method ``encrypted_fields()`` returning ``EncryptedField`` objects (it
imports them there, on access, beside the code that encrypts). dbtools reads the declarations
from Django's app registry and imports no app.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

from . import at_rest
from .writelock import serialized_writes


class EncryptedField(abc.ABC):
    """One kind of secret: a model's field holding ``at_rest`` tokens of one purpose.

    Subclasses say how the tokens sit in the field's value: ``tokens`` lists those of a value
    (none when the secret is not set), ``with_tokens`` returns the value holding others instead.
    ``rows`` narrows the rows that can hold the secret (queryset ``filter`` keywords).
    """

    def __init__(
        self, model: str, field: str, *, purpose: bytes, rows: Mapping[str, Any] | None = None
    ) -> None:
        self.model_label = model  # "app_label.ModelName"
        self.field = field
        self.purpose = purpose
        self.rows = dict(rows or {})

    @property
    def kind(self) -> str:
        """What reports name the secret by: ``lti_platform.PlatformKey.private_key_encrypted``."""
        return f"{self.model_label}.{self.field}"

    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @abc.abstractmethod
    def tokens(self, value: Any) -> list[bytes]:
        """The tokens stored in ``value``, in order."""

    @abc.abstractmethod
    def with_tokens(self, value: Any, tokens: Sequence[bytes]) -> Any:
        """``value`` with ``tokens`` (as many as ``tokens(value)`` lists) in their place."""


class EncryptedBytes(EncryptedField):
    """A ``BinaryField`` holding one token; empty when no secret is set."""

    def tokens(self, value: Any) -> list[bytes]:
        return [bytes(value)] if value is not None and bytes(value) else []

    def with_tokens(self, value: Any, tokens: Sequence[bytes]) -> Any:
        (token,) = tokens
        return token


class EncryptedText(EncryptedField):
    """A text field holding one token as ASCII; empty when no secret is set."""

    def tokens(self, value: Any) -> list[bytes]:
        return [value.encode("ascii")] if value else []

    def with_tokens(self, value: Any, tokens: Sequence[bytes]) -> Any:
        (token,) = tokens
        return token.decode("ascii")


class EncryptedJsonKeys(EncryptedField):
    """A ``JSONField`` object whose ``keys`` (those present) hold a token as text, or a list."""

    def __init__(
        self,
        model: str,
        field: str,
        *,
        keys: Sequence[str],
        purpose: bytes,
        rows: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(model, field, purpose=purpose, rows=rows)
        self.keys = tuple(keys)

    def tokens(self, value: Any) -> list[bytes]:
        found: list[bytes] = []
        if not isinstance(value, dict):
            return found
        for key in self.keys:
            item = value.get(key)
            texts = item if isinstance(item, list) else [] if item is None else [item]
            found.extend(str(text).encode("ascii") for text in texts)
        return found

    def with_tokens(self, value: Any, tokens: Sequence[bytes]) -> Any:
        replacements = iter(token.decode("ascii") for token in tokens)
        result = dict(value)
        for key in self.keys:
            item = value.get(key)
            if isinstance(item, list):
                result[key] = [next(replacements) for _ in item]
            elif item is not None:
                result[key] = next(replacements)
        return result


def encrypted_fields() -> list[EncryptedField]:
    """Every app's declared encrypted fields, in ``INSTALLED_APPS`` order."""
    found: list[EncryptedField] = []
    for config in apps.get_app_configs():
        declare = getattr(config, "encrypted_fields", None)
        if declare is not None:
            found.extend(declare())
    kinds = [f.kind for f in found]
    twice = sorted({k for k in kinds if kinds.count(k) > 1})
    if twice:
        raise ImproperlyConfigured(f"encrypted fields declared twice: {', '.join(twice)}")
    return found


@dataclass
class KindReport:
    """How the secrets of one kind stand: ``secrets`` stored, ``old`` of them not under the
    encrypting key (re-encrypted, unless only checking)."""

    kind: str
    secrets: int = 0
    old: int = 0


@dataclass(frozen=True)
class Unreadable:
    kind: str
    row: Any  # the primary key


class UnreadableSecretsError(Exception):
    """Secrets that no key of their purpose decrypts (a removed key, another kind's token)."""

    def __init__(self, unreadable: Sequence[Unreadable]) -> None:
        self.unreadable = list(unreadable)
        shown = ", ".join(f"{u.kind} of row {u.row}" for u in self.unreadable[:20])
        more = len(self.unreadable) - 20
        super().__init__(
            f"no configured key decrypts the secrets of {len(self.unreadable)} row(s): {shown}"
            + (f" and {more} more" if more > 0 else "")
        )


@dataclass
class _Plan:
    reports: list[KindReport] = dataclasses.field(default_factory=list)
    unreadable: list[Unreadable] = dataclasses.field(default_factory=list)
    updates: list[tuple[EncryptedField, Any, Any]] = dataclasses.field(default_factory=list)


def _plan(fields: Iterable[EncryptedField], *, lock: bool) -> _Plan:
    plan = _Plan()
    for spec in fields:
        report = KindReport(kind=spec.kind)
        plan.reports.append(report)
        rows = spec.model()._base_manager.filter(**spec.rows)
        if lock:
            rows = rows.select_for_update()
        for pk, value in rows.order_by("pk").values_list("pk", spec.field):
            tokens = spec.tokens(value)
            states = [at_rest.key_state(t, purpose=spec.purpose) for t in tokens]
            report.secrets += len(tokens)
            report.old += states.count(at_rest.KeyState.OLD)
            if at_rest.KeyState.UNREADABLE in states:
                plan.unreadable.append(Unreadable(kind=spec.kind, row=pk))
            elif at_rest.KeyState.OLD in states:
                renewed = [
                    at_rest.reencrypt(t, purpose=spec.purpose)
                    if state is at_rest.KeyState.OLD
                    else t
                    for t, state in zip(tokens, states, strict=True)
                ]
                plan.updates.append((spec, pk, spec.with_tokens(value, renewed)))
    return plan


def check_secrets(fields: Iterable[EncryptedField] | None = None) -> list[KindReport]:
    """Count, per kind, the secrets not under the encrypting key; write nothing.

    Raise ``UnreadableSecretsError`` if a secret decrypts with no key.
    """
    plan = _plan(encrypted_fields() if fields is None else fields, lock=False)
    if plan.unreadable:
        raise UnreadableSecretsError(plan.unreadable)
    return plan.reports


def reencrypt_secrets(fields: Iterable[EncryptedField] | None = None) -> list[KindReport]:
    """Re-encrypt every secret not under the encrypting key, all in one transaction.

    A secret no key decrypts raises ``UnreadableSecretsError`` and nothing is written. Run
    again, it finds nothing old and writes nothing.
    """
    with serialized_writes(), transaction.atomic():
        plan = _plan(encrypted_fields() if fields is None else fields, lock=True)
        if plan.unreadable:
            raise UnreadableSecretsError(plan.unreadable)
        for spec, pk, value in plan.updates:
            spec.model()._base_manager.filter(pk=pk).update(**{spec.field: value})
    return plan.reports
