"""Deployment ids in the form of the 学習eポータル標準モデル, which Japanese tools check.

A deployment of a tool belongs to one organisation and its id names it:

- ``S_`` + the school's 13-character 学校コード (文部科学省): a school letter and digit
  (学校種, e.g. ``B1`` 小学校), the two-digit prefecture code, nine more digits ending with a
  check digit — ``S_B113210000010``;
- ``B_`` + the board's 6-digit 全国地方公共団体コード (five digits and a check digit,
  JIS X 0402 with the ministry's modulus-11 check digit) — ``B_131016``;
- ``P_`` + the two-digit prefecture code, ``01``–``47`` — ``P_13``.

Ids not in that form (a bare board code such as ``13210``, a bare school code) are *legacy*:
accepted, so registrations made before stay valid, but reported so that their owner can move
to the standard form. An id that starts with one of the three prefixes and breaks its rule is an
error: a tool that checks the form would refuse every launch.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_LENGTH = 255  # Deployment.deployment_id

_SCHOOL_CODE = re.compile(r"\A[A-H][0-9][0-9]{11}\Z")
_BOARD_CODE = re.compile(r"\A[0-9]{6}\Z")
_PREFECTURE_CODE = re.compile(r"\A[0-9]{2}\Z")
_LEGACY = re.compile(r"\A[\x21-\x7e]+\Z")  # printable ASCII, no spaces


class DeploymentIdError(ValueError):
    """A deployment id or the code it is made from breaks the standard model's rule; the
    message names the rule."""


class OrgLevel(enum.Enum):
    """Whose deployment it is, with the id's prefix."""

    SCHOOL = "S_"
    BOARD = "B_"
    PREFECTURE = "P_"


@dataclass(frozen=True)
class DeploymentId:
    """A checked deployment id: ``level`` is None for a legacy id."""

    value: str
    level: OrgLevel | None

    @property
    def is_standard(self) -> bool:
        return self.level is not None


def municipality_check_digit(five_digits: str) -> str:
    """The check digit of a 全国地方公共団体コード: the digits weighted 6, 5, 4, 3, 2, summed;
    11 minus the remainder modulo 11, its last digit (千代田区 13101 → 6, 131016)."""
    if not re.fullmatch(r"[0-9]{5}", five_digits):
        raise DeploymentIdError(
            f"a municipality code has five digits before its check digit: {five_digits!r}"
        )
    total = sum(int(d) * w for d, w in zip(five_digits, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def check_school_code(code: str) -> str:
    """A 13-character 学校コード: school letter A–H, a digit, the prefecture code 01–47 and
    nine digits."""
    if not _SCHOOL_CODE.match(code) or not _is_prefecture(code[2:4]):
        raise DeploymentIdError(
            f"S_ must be followed by the school's 13-character 学校コード "
            f"(a letter A–H, a digit, the prefecture code 01–47, nine digits), not {code!r}"
        )
    return code


def check_board_code(code: str) -> str:
    """A 6-digit 全国地方公共団体コード with its check digit, in a prefecture 01–47."""
    if not _BOARD_CODE.match(code) or not _is_prefecture(code[:2]):
        raise DeploymentIdError(
            f"B_ must be followed by the board's 6-digit 地方公共団体コード "
            f"(prefecture 01–47, three digits, a check digit), not {code!r}"
        )
    expected = municipality_check_digit(code[:5])
    if code[5] != expected:
        raise DeploymentIdError(
            f"B_{code}: the 地方公共団体コード's check digit is wrong "
            f"(expected {code[:5]}{expected})"
        )
    return code


def check_prefecture_code(code: str) -> str:
    """A two-digit prefecture code, 01–47."""
    if not _PREFECTURE_CODE.match(code) or not _is_prefecture(code):
        raise DeploymentIdError(
            f"P_ must be followed by the two-digit prefecture code 01–47, not {code!r}"
        )
    return code


_CHECKS = {
    OrgLevel.SCHOOL: check_school_code,
    OrgLevel.BOARD: check_board_code,
    OrgLevel.PREFECTURE: check_prefecture_code,
}


def standard_deployment_id(level: OrgLevel, code: str) -> str:
    """The standard deployment id of the organisation at ``level`` with ``code``; raise
    DeploymentIdError when the code breaks that level's rule."""
    return level.value + _CHECKS[level](code)


def parse_deployment_id(value: object) -> DeploymentId:
    """Check a given deployment id: standard (its code checked), or legacy (any other
    printable ASCII without spaces, at most 255 characters); raise DeploymentIdError else."""
    if not isinstance(value, str) or not value:
        raise DeploymentIdError(f"a deployment id is a non-empty string, not {value!r}")
    if len(value) > MAX_LENGTH or not _LEGACY.match(value):
        raise DeploymentIdError(
            f"a deployment id is at most {MAX_LENGTH} printable ASCII characters "
            f"without spaces, not {value!r}"
        )
    for level in OrgLevel:
        if value.startswith(level.value):
            standard_deployment_id(level, value[len(level.value) :])
            return DeploymentId(value, level)
    return DeploymentId(value, None)


def _is_prefecture(two_digits: str) -> bool:
    return two_digits.isdigit() and 1 <= int(two_digits) <= 47
