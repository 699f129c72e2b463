"""Sign-in throttling fit for schools: per account, and per address only as a school's NAT.

Two kinds of counter, both in Django's default cache (the database table, or Redis), so that
every worker process counts together and a restart forgets nothing:

- **Per account**: allauth's ``login_failed`` rate (``ACCOUNT_RATE_LIMITS``, keyed by
  ``RosterAccountAdapter`` on the account name alone). After too many failures the account is
  refused, even with the right password, until the oldest failure leaves the window.
- **Per address**: every sign-in (``SSO_LOGIN_PER_ADDRESS``, answered with 429) and failed
  sign-ins (``SSO_LOGIN_FAILED_PER_ADDRESS``, a form error). A whole school signs in from one
  address at 8:30, so these counters are not allauth's: its counters take a cache lock per
  key, and a sign-in that waits more than a second for the lock is refused — under a class
  signing in at once, children refused each other. These count in fixed windows with
  ``cache.add`` and ``cache.incr``, without a lock: concurrent sign-ins can only be counted
  short (the database cache's ``incr`` is a read and a write), never refused for each other.
- **Wrong sign-in cards per address** (``SSO_CARD_FAILED_PER_ADDRESS``, signin_cards): a card's
  secret is 256 random bits, so a successful card sign-in is counted nowhere (2,000 children
  from one NAT at 8:30 must all get in) and only wrong, revoked or staff cards count, apart from
  passwords: a class with a few worn cards never locks out the school's password sign-ins.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from allauth.account import app_settings
from allauth.core import ratelimit
from allauth.core.internal.ratelimit import Rate, get_ip, parse_rate, parse_rates
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# The clock the per-address windows are cut from (tests replace it).
now: Callable[[], float] = time.time


@dataclass(frozen=True)
class Window:
    """The current window of one address's counter: its cache key and seconds left."""

    key: str
    seconds_left: int
    amount: int
    duration: int


def _window(request: HttpRequest, name: str, rate: Rate) -> Window:
    # The address as allauth counts it (MANABI_TRUSTED_PROXY_COUNT, IPv6 by /64).
    digest = hashlib.sha256(get_ip(request).encode()).hexdigest()[:32]
    duration = max(1, math.ceil(rate.duration))
    second = int(now())
    start = second // duration * duration
    return Window(
        key=f"manabi:signin:{name}:{duration}:{start}:{digest}",
        seconds_left=start + duration - second,
        amount=rate.amount,
        duration=duration,
    )


def _rate(setting: str) -> Rate | None:
    value = getattr(settings, setting, "off")
    return None if value == "off" else parse_rate(f"{value}/ip")


def count_sign_in(request: HttpRequest) -> int | None:
    """Count a sign-in from the request's address; None if allowed, else seconds to wait."""
    rate = _rate("SSO_LOGIN_PER_ADDRESS")
    if rate is None:
        return None
    window = _window(request, "login", rate)
    cache.add(window.key, 0, window.duration)
    try:
        count = cache.incr(window.key)
    except ValueError:  # expired between add and incr: this is the first of a new window
        cache.set(window.key, 1, window.duration)
        count = 1
    return None if count <= window.amount else window.seconds_left


# The failure counters per address: the setting of their rate, and the name of their keys.
PASSWORD_FAILURES = ("SSO_LOGIN_FAILED_PER_ADDRESS", "failed")
CARD_FAILURES = ("SSO_CARD_FAILED_PER_ADDRESS", "card-failed")


def failures_exceeded(request: HttpRequest, counter: tuple[str, str] = PASSWORD_FAILURES) -> bool:
    """Whether the request's address has failed too many sign-ins in the current window
    (passwords, or with ``CARD_FAILURES`` sign-in cards)."""
    setting, name = counter
    rate = _rate(setting)
    if rate is None:
        return False
    window = _window(request, name, rate)
    count: int = cache.get(window.key, 0)
    return count >= window.amount


def count_failure(request: HttpRequest, counter: tuple[str, str] = PASSWORD_FAILURES) -> None:
    """Count a failed sign-in from the request's address (in ``counter``'s window)."""
    setting, name = counter
    rate = _rate(setting)
    if rate is None:
        return
    window = _window(request, name, rate)
    if not cache.add(window.key, 1, window.duration):
        try:
            cache.incr(window.key)
        except ValueError:
            cache.set(window.key, 1, window.duration)


# The allauth views that answer 429 themselves, by URL name, and their rate-limit action.
ACTION_OF_VIEW = {
    "account_change_password": "change_password",
    "account_set_password": "change_password",
    "account_reset_password": "reset_password",
    "account_reset_password_from_key": "reset_password_from_key",
    "account_reauthenticate": "reauthenticate",
    "account_email": "manage_email",
}
DEFAULT_RETRY_AFTER = 60  # seconds, for a view this table does not name


def retry_after(url_name: str | None) -> int:
    """Seconds after which the allauth view named ``url_name`` takes a refused request again.

    The longest window of its action's rates: each counts hits in a sliding window, so by
    then the hit that filled it has left (an upper bound, the wait is often shorter).
    """
    action = ACTION_OF_VIEW.get(url_name or "")
    if action is None:
        return DEFAULT_RETRY_AFTER
    rates = parse_rates(app_settings.RATE_LIMITS.get(action))
    return max((math.ceil(rate.duration) for rate in rates), default=DEFAULT_RETRY_AFTER)


def unlock_account(request: HttpRequest, username: str) -> None:
    """Forget the account's failed sign-ins (an administrator has just set its password).

    As allauth does after a password reset by e-mail: the new password is known only to the
    child and the adult who set it, so the failures before it count no more.
    """
    from .adapter import login_attempts_key  # the adapter counts through this module

    ratelimit.clear(request, action="login_failed", key=login_attempts_key(username))
