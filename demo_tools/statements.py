"""The study logs of the drill and the CBT test, as the tools themselves write them.

The drill sends one ``answered`` statement per sum (its ``result.success`` and the chosen
``response``) and one ``completed`` with the score when the set is finished; the CBT test one
``answered`` per question and ``completed`` on submit. All statements of an attempt share its
``context.registration``; their parent is the resource link the child launched.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

from . import catalogue, xapi

MAX_AGO_MS = 6 * 3600 * 1000  # an answer older than this is dated at the oldest allowed
TEXT_MAX = 100  # characters of a sum, key or response kept from the drill's form


@dataclass(frozen=True)
class DrillAnswer:
    """One sum of a drill set, as the drill page reports it on finishing."""

    key: str  # the sum in short ("3+4", "8-3", "3x4", the kanji): part of its activity IRI
    question: str  # as shown ("3 + 4 = ?")
    correct: str
    response: str  # what the child chose
    ago_ms: int  # how long before finishing it was answered

    @classmethod
    def parse_all(cls, raw: str, limit: int) -> list[DrillAnswer]:
        """The ``answers`` field of the drill's finish form (a JSON list); [] when unusable."""
        try:
            items = json.loads(raw) if raw else []
        except ValueError:
            return []
        if not isinstance(items, list):
            return []
        answers = []
        for item in items[:limit]:
            if not isinstance(item, dict):
                return []
            texts = [item.get(k) for k in ("key", "question", "correct", "response")]
            ago = item.get("ago_ms", 0)
            if not all(isinstance(t, str) and t for t in texts[:3]) or not isinstance(
                texts[3], str
            ):
                return []
            if not isinstance(ago, int) or isinstance(ago, bool):
                return []
            key, question, correct, response = (str(t)[:TEXT_MAX] for t in texts)
            answers.append(cls(key, question, correct, response, min(max(ago, 0), MAX_AGO_MS)))
        return answers


def registration(endpoint: xapi.Endpoint, attempt_key: str) -> uuid.UUID:
    """The attempt's ``context.registration``: uuid5 of the tool's attempt key."""
    return uuid.UUID(endpoint.statement_id(f"registration/{attempt_key}"))


def drill(
    attempt: xapi.Attempt,
    unit: catalogue.DrillUnit,
    answers: list[DrillAnswer],
    *,
    given: int,
    finished_at: datetime.datetime,
) -> list[dict[str, Any]]:
    home = attempt.endpoint
    unit_activity = xapi.activity(
        home.iri("units", unit.key), xapi.TYPE_ASSESSMENT, f"{unit.title} ドリル"
    )
    statements = [
        attempt.answered(
            number,
            xapi.activity(
                home.iri("units", unit.key, "sums", a.key), xapi.TYPE_QUESTION, a.question
            ),
            response=a.response,
            success=a.response == a.correct,
            at=finished_at - datetime.timedelta(milliseconds=a.ago_ms),
            within=unit_activity,
        )
        for number, a in enumerate(answers, start=1)
    ]
    statements.append(
        attempt.completed(unit_activity, given=given, maximum=unit.questions, at=finished_at)
    )
    return statements


def cbt(
    attempt: xapi.Attempt,
    test: catalogue.CbtTest,
    answers: dict[str, str],
    *,
    given: int,
    finished_at: datetime.datetime,
) -> list[dict[str, Any]]:
    home = attempt.endpoint
    test_activity = xapi.activity(home.iri("tests", test.key), xapi.TYPE_ASSESSMENT, test.title)
    statements = [
        attempt.answered(
            number,
            xapi.activity(
                home.iri("tests", test.key, "questions", q.name), xapi.TYPE_QUESTION, q.text
            ),
            response=answers.get(q.name, ""),
            success=answers.get(q.name) == q.answer,
            at=finished_at,
            within=test_activity,
        )
        for number, q in enumerate(test.questions, start=1)
    ]
    statements.append(
        attempt.completed(test_activity, given=given, maximum=len(test.questions), at=finished_at)
    )
    return statements
