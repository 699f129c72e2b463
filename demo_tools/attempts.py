"""One-time CBT attempt ids, kept in the tool's own storage (the Django cache).

The test page carries a fresh attempt id; submitting spends it (``cache.add`` is atomic on
the database and Redis caches), so the same page posted again after the browser's Back
button is refused and its answers are never sent to the platform.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

LIFETIME = 6 * 3600  # seconds: longer than any test a child sits
ANSWERS_LIFETIME = 90 * 24 * 3600  # a term: how long a teacher can review the answers


def _issued(attempt: str) -> str:
    return f"demo_tools:cbt-attempt:{attempt}"


def _spent(attempt: str) -> str:
    return f"demo_tools:cbt-attempt-spent:{attempt}"


def issue(launch_id: str) -> str:
    """Return a new attempt id bound to this launch."""
    attempt = secrets.token_urlsafe(18)
    cache.set(_issued(attempt), launch_id, LIFETIME)
    return attempt


def spend(attempt: str, launch_id: str) -> str | None:
    """Spend the attempt; return why it is refused (child-readable), or None if it may go."""
    if not attempt or cache.get(_issued(attempt)) != launch_id:
        return "このテストは もういちど 学習eポータルから ひらいてください。"
    if not cache.add(_spent(attempt), True, LIFETIME):
        return "このテストは もう ていしゅつ しました。こたえは かえられません。"
    return None


def _answers(deployment_id: str, user: str, test: str) -> str:
    return f"demo_tools:cbt-answers:{deployment_id}:{user}:{test}"


def remember_answers(deployment_id: str, user: str, test: str, answers: dict[str, str]) -> None:
    """Keep a child's submitted answers for the teacher's submission review."""
    cache.set(_answers(deployment_id, user, test), answers, ANSWERS_LIFETIME)


def answers_of(deployment_id: str, user: str, test: str) -> dict[str, str] | None:
    value = cache.get(_answers(deployment_id, user, test))
    return value if isinstance(value, dict) else None


def release(attempt: str) -> None:
    """Give the attempt back when its score could not be sent (nothing was recorded)."""
    cache.delete(_spent(attempt))
