"""The study log's settings, read on access (tests override them with ``settings``)."""

from __future__ import annotations

from django.conf import settings


class _AppSettings:
    @property
    def poll_seconds(self) -> float:
        """How often an idle forwarder looks for new statements."""
        return float(getattr(settings, "XAPI_FORWARD_POLL_SECONDS", 0.5))

    @property
    def lease_seconds(self) -> float:
        """How long a claimed batch belongs to its forwarder. A forwarder that dies leaves its
        batch to others after this; a live one sends no request it could not finish in it."""
        return float(getattr(settings, "XAPI_FORWARD_LEASE_SECONDS", 300))

    @property
    def retry_seconds(self) -> float:
        """The first back-off after an LRS failed; doubled per failure, with jitter."""
        return float(getattr(settings, "XAPI_RETRY_SECONDS", 1))

    @property
    def retry_max_seconds(self) -> float:
        return float(getattr(settings, "XAPI_RETRY_MAX_SECONDS", 300))

    @property
    def alert_retry_seconds(self) -> float:
        """After a 401/403 (or a wrong URL) the LRS is tried again this much later."""
        return float(getattr(settings, "XAPI_ALERT_RETRY_SECONDS", 600))

    @property
    def max_statement_bytes(self) -> int:
        """The largest statement the LRS endpoint accepts from a tool."""
        return int(getattr(settings, "XAPI_MAX_STATEMENT_BYTES", 64 * 1024))

    @property
    def max_request_bytes(self) -> int:
        """The largest request body the LRS endpoint reads."""
        return int(getattr(settings, "XAPI_MAX_REQUEST_BYTES", 8 * 1024 * 1024))


app_settings = _AppSettings()
