"""An xAPI Statement resource client: POST a batch of stored bytes, PUT one, GET one back.

Every call has a connect and a read timeout and sends ``X-Experience-API-Version``; an answer
that never came (refused connection, timeout, reset) is an :class:`Answer` with ``status``
None, never an exception: the caller decides what it means.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from .statements import batch_body
from .vocab import VERSION_HEADER

MAX_ERROR_TEXT = 2000  # characters of an LRS's answer kept with a dead letter


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (connection refused, timeout, reset)
    body: bytes = b""
    error: str = ""  # why there was no answer

    @property
    def text(self) -> str:
        """The answer in words, for logs and dead letters (bounded)."""
        if self.status is None:
            return self.error[:MAX_ERROR_TEXT]
        body = self.body.decode("utf-8", "replace")
        return f"HTTP {self.status}: {body}"[:MAX_ERROR_TEXT]

    def json(self) -> Any:
        return json.loads(self.body)


class LrsClient:
    """One LRS's Statement resource (``statements_url``), over a keep-alive session."""

    def __init__(
        self,
        statements_url: str,
        *,
        username: str = "",
        password: str = "",
        version: str = "1.0.3",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.statements_url = statements_url
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()
        self.session.headers[VERSION_HEADER] = version
        if username or password:
            self.session.auth = (username, password)

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, **kwargs: Any) -> Answer:
        try:
            response = self.session.request(
                method, self.statements_url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout as exc:
            return Answer(None, error=f"timeout: {exc}")
        except requests.RequestException as exc:
            return Answer(None, error=f"{type(exc).__name__}: {exc}")
        return Answer(response.status_code, response.content)

    def post(self, bodies: Sequence[bytes]) -> Answer:
        return self._call(
            "POST",
            data=batch_body(bodies),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def put(self, statement_id: uuid.UUID, body: bytes) -> Answer:
        return self._call(
            "PUT",
            params={"statementId": str(statement_id)},
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    def get(self, statement_id: uuid.UUID) -> Answer:
        return self._call("GET", params={"statementId": str(statement_id)})
