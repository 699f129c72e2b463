"""The string formats of xAPI 1.0.3 (Data 2.2, 4.2–4.6): IRI, IRL, UUID, RFC 5646 language tag,
ISO 8601 timestamp and duration, mailto IRI, SHA-1 hex, statement version.

Best-effort where the specification allows it (Data 2.2.s4.b6–b7: IRIs and language tags), exact
where the conformance suite probes (a scheme is required; language subtag lengths follow the
RFC 5646 grammar; the ``-00:00`` offset is refused). Pure functions, used by the statement
validator and by the LRS for query parameters (which follow the same rules, Data 2.2.s4.b4).
Results of the checks of strings that repeat across statements (verb ids, activity types,
language tags) are cached.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

# RFC 3987 / 3986: scheme ":" then at least one character; no whitespace, no control characters
# and none of the characters that may never appear in an IRI; every "%" starts an escape.
_IRI = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>"{}|\\^`\x00-\x1f\x7f]+')
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# An IRL is an IRI with an authority ("scheme://host…"); file: may leave the host empty.
_IRL = re.compile(
    r'([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#\s<>"{}|\\^`\x00-\x1f\x7f]*)[^\s<>"{}|\\^`\x00-\x1f\x7f]*'
)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SHA1_HEX = re.compile(r"[0-9a-fA-F]{40}")
_MBOX = re.compile(r"mailto:[^@\s]+@[^@\s]+")

# RFC 5646 §2.1 (langtag, privateuse, grandfathered), case-insensitive.
_LANGTAG = re.compile(
    r"""
    (?:
      (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})  # language ["-" extlang]
      (?:-[a-z]{4})?                                        # script
      (?:-(?:[a-z]{2}|[0-9]{3}))?                           # region
      (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*              # variants
      (?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*                   # extensions
      (?:-x(?:-[a-z0-9]{1,8})+)?                            # private use
    |
      x(?:-[a-z0-9]{1,8})+                                  # private use tag
    |
      en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo
      |i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de
      |art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|([+-])(\d{2})(?::?(\d{2}))?)",
    re.ASCII,
)
_TIMESTAMP_NO_ZONE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?", re.ASCII)
_DURATION = re.compile(
    r"P(?:\d+(?:[.,]\d+)?W"
    r"|(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?)",
    re.ASCII,
)
_FRACTION = re.compile(r"[.,]\d+[YMWDHS]", re.ASCII)
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+"
    r"(?:\s*;\s*[A-Za-z0-9!#$&^_.+\-]+=(?:[A-Za-z0-9!#$&^_.+\-]+|\"[^\"]*\"))*"
)


@lru_cache(maxsize=4096)
def is_iri(value: str) -> bool:
    """An absolute IRI: a scheme, ":", and no character an IRI cannot contain."""
    return _IRI.fullmatch(value) is not None and _BAD_ESCAPE.search(value) is None


@lru_cache(maxsize=4096)
def is_irl(value: str) -> bool:
    """An absolute IRL: an IRI of the form ``scheme://authority…`` (the authority only
    ``file:`` may leave empty)."""
    match = _IRL.fullmatch(value)
    if match is None or _BAD_ESCAPE.search(value) is not None:
        return False
    return bool(match.group(2)) or match.group(1).lower() == "file"


def is_uuid(value: str) -> bool:
    """A UUID in the standard string form (8-4-4-4-12 hex digits, either case)."""
    return _UUID.fullmatch(value) is not None


def is_mbox(value: str) -> bool:
    """A ``mailto:`` IRI holding one email address."""
    return _MBOX.fullmatch(value) is not None and is_iri(value)


def is_sha1_hex(value: str) -> bool:
    """40 hex digits: the SHA-1 of a mailto IRI (``mbox_sha1sum``)."""
    return _SHA1_HEX.fullmatch(value) is not None


@lru_cache(maxsize=1024)
def is_language_tag(value: str) -> bool:
    """A well-formed RFC 5646 language tag, with no singleton or variant repeated (§2.2.5–6)."""
    if _LANGTAG.fullmatch(value) is None:
        return False
    if "-" not in value or value[:2].lower() == "x-":
        return True
    variants: set[str] = set()
    singletons: set[str] = set()
    for subtag in value.lower().split("-")[1:]:
        if subtag == "x":
            break
        if len(subtag) == 1:
            if subtag in singletons:
                return False
            singletons.add(subtag)
        elif not singletons and (len(subtag) >= 5 or (len(subtag) == 4 and subtag[0].isdigit())):
            if subtag in variants:
                return False
            variants.add(subtag)
    return True


def timestamp_problem(value: str) -> str | None:
    """Why ``value`` is not an ISO 8601 timestamp with a time zone, or None when it is one."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None and _TIMESTAMP_NO_ZONE.fullmatch(value) is not None:
        return f"must include a time zone ('Z' or an offset such as '+09:00'), got {value!r}"
    if match is None:
        return (
            "must be an ISO 8601 timestamp with a time zone, such as "
            f"'2026-04-01T08:30:00.000Z', got {value!r}"
        )
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    try:
        # a leap second (:60) is a valid RFC 3339 time; datetime cannot hold it
        datetime(year, month, day, hour, minute, min(second, 59))  # noqa: DTZ001
    except ValueError:
        return f"is not a real date and time: {value!r}"
    if second > 60:
        return f"is not a real date and time: {value!r}"
    if match.group(8) != "Z":
        offset_hours, offset_minutes = int(match.group(10)), int(match.group(11) or 0)
        if offset_hours > 23 or offset_minutes > 59:
            return f"has an impossible time zone offset: {value!r}"
        if match.group(9) == "-" and offset_hours == 0 and offset_minutes == 0:
            return (
                f"must not use the offset {match.group(8)!r}, which means an unknown offset "
                f"(use 'Z' or '+00:00' for UTC), got {value!r}"
            )
    return None


def is_duration(value: str) -> bool:
    """An ISO 8601:2004 §4.4.3.2 duration (``PT4H35M59.14S``, ``P3Y``, ``P4W``; weeks alone);
    only the last component may carry a decimal fraction."""
    if _DURATION.fullmatch(value) is None or value in ("P", "PT"):
        return False
    fraction = _FRACTION.search(value)
    return fraction is None or fraction.end() == len(value)


def is_media_type(value: str) -> bool:
    """An Internet media type (RFC 2046): ``type/subtype`` with optional parameters."""
    return _MEDIA_TYPE.fullmatch(value) is not None


def is_statement_version(value: str, *, accept_2_0: bool) -> bool:
    """``1.0`` or ``1.0.x`` (Data 2.4.10); with ``accept_2_0`` also ``2.0`` or ``2.0.x``."""
    major, _, rest = value.partition(".")
    minor, _, patch = rest.partition(".")
    if minor != "0" or not (major == "1" or (accept_2_0 and major == "2")):
        return False
    if "." in rest:
        return patch.isascii() and patch.isdigit()
    return True
