"""The demo tools' xAPI client: how a vendor sends study logs to the e-portal's LRS endpoint.

A tool knows only what its own configuration holds (``demo_tools.config``, entry ``xapi``): the
portal's xAPI base URL (``<issuer>/xapi/``), the HTTP Basic key and secret the portal issued it,
and its own home (the ``homePage`` of its actors' accounts and the root of its activity IRIs).
It never imports the portal: statements are plain JSON sent with ``requests``.

Sending is best effort and never fails the child's work: it happens after the tool's own work
is done, with short timeouts, and an LRS that is down, slow or refusing is logged and ignored.
Ids are uuid5 of the tool's own business keys, so a page sent again sends the same ids (the
portal answers 409 for ids it has, and stores nothing twice).
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from . import config

XAPI_VERSION = "1.0.3"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
TYPE_QUESTION = "http://adlnet.gov/expapi/activities/question"
TYPE_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
TYPE_LINK = "http://adlnet.gov/expapi/activities/link"
CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 5.0
logger = logging.getLogger("manabi.demo_tools")


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom a tool sends its statements (its ``xapi`` configuration)."""

    base_url: str  # the portal's xAPI base URL, ending in /
    key: str
    secret: str
    home: str  # the tool's own home, ending in /

    @classmethod
    def of(cls, slug: str) -> Endpoint | None:
        """The tool's endpoint, or None when the portal has issued it no credentials."""
        held = (config.load_all().get(slug) or {}).get("xapi") or {}
        try:
            return cls(held["endpoint"], held["key"], held["secret"], held["home"])
        except KeyError:
            return None

    @property
    def statements_url(self) -> str:
        return self.base_url.rstrip("/") + "/statements"

    def statement_id(self, business_key: str) -> str:
        """uuid5 of the tool's business key, under a namespace of the tool's own home."""
        return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, self.home), business_key))

    def iri(self, *parts: str) -> str:
        return self.home + "/".join(quote(p, safe="") for p in parts)


@dataclass(frozen=True)
class Attempt:
    """One attempt of one person at one resource link: what every statement of it shares."""

    endpoint: Endpoint
    tool_name: str
    sub: str  # the launch's sub: the person's e-portal UUID
    registration: uuid.UUID  # context.registration, one per attempt
    deployment_id: str
    resource_link_id: str
    resource_link_title: str = ""

    @property
    def actor(self) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "account": {"homePage": self.endpoint.home, "name": self.sub},
        }

    @property
    def resource_link(self) -> dict[str, Any]:
        definition: dict[str, Any] = {"type": TYPE_LINK}
        if self.resource_link_title:
            definition["name"] = {"ja": self.resource_link_title}
        iri = self.endpoint.iri("deployments", self.deployment_id, "resource-links")
        return {
            "objectType": "Activity",
            "id": iri + "/" + quote(self.resource_link_id, safe=""),
            "definition": definition,
        }

    def _statement(
        self,
        key: str,
        verb: str,
        verb_name: str,
        obj: dict[str, Any],
        result: dict[str, Any],
        at: datetime.datetime,
        grouping: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        activities: dict[str, Any] = {"parent": [self.resource_link]}
        if grouping:
            activities["grouping"] = list(grouping)
        return {
            "id": self.endpoint.statement_id(f"{self.registration}/{key}"),
            "actor": self.actor,
            "verb": {"id": verb, "display": {"en-US": verb_name}},
            "object": obj,
            "result": result,
            "context": {
                "registration": str(self.registration),
                "contextActivities": activities,
                "platform": self.tool_name,
                "language": "ja",
            },
            "timestamp": timestamp(at),
        }

    def answered(
        self,
        number: int,
        question: dict[str, Any],
        *,
        response: str,
        success: bool,
        at: datetime.datetime,
        within: dict[str, Any],
    ) -> dict[str, Any]:
        """The person answered ``question`` (the ``number``-th of the attempt) of ``within``."""
        result = {"success": success, "response": response}
        return self._statement(
            f"answered/{number}", ANSWERED, "answered", question, result, at, [within]
        )

    def completed(
        self, activity: dict[str, Any], *, given: int, maximum: int, at: datetime.datetime
    ) -> dict[str, Any]:
        """The person finished ``activity`` with ``given`` of ``maximum``."""
        score = {"scaled": round(given / maximum, 4) if maximum else 0, "raw": given}
        score.update({"min": 0, "max": maximum})
        result = {"score": score, "completion": True}
        return self._statement("completed", COMPLETED, "completed", activity, result, at)


def activity(iri: str, activity_type: str, name: str) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": activity_type}
    if name:
        definition["name"] = {"ja": name}
    return {"objectType": "Activity", "id": iri, "definition": definition}


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-05-01T09:30:00.500Z``."""
    utc = moment.astimezone(datetime.UTC)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send(endpoint: Endpoint, statements: Sequence[dict[str, Any]]) -> bool:
    """POST the statements as one batch; return whether the LRS has them.

    Never raises for the LRS: a refused connection, a timeout or a refusal is logged. A 409
    means the LRS already had these ids (a page sent twice) and counts as stored.
    """
    if not statements:
        return True
    try:
        answer = requests.post(
            endpoint.statements_url,
            data=json.dumps(list(statements), ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION},
            auth=(endpoint.key, endpoint.secret),
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning(
            "xAPI: %d statements not sent to %s: %s",
            len(statements),
            endpoint.statements_url,
            type(exc).__name__,
        )
        return False
    if answer.status_code in (200, 204):
        return True
    if answer.status_code == 409:
        logger.info(
            "xAPI: the LRS has these %d statement ids already (sent again)", len(statements)
        )
        return True
    logger.warning(
        "xAPI: %d statements refused by %s: HTTP %d %s",
        len(statements),
        endpoint.statements_url,
        answer.status_code,
        answer.text[:300],
    )
    return False
