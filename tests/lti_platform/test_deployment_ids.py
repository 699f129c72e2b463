"""The 学習eポータル標準モデル's deployment ids: the pure rule (``protocol.deployment_ids``)."""

from __future__ import annotations

import pytest

from lti_platform.protocol.deployment_ids import (
    DeploymentId,
    DeploymentIdError,
    OrgLevel,
    municipality_check_digit,
    parse_deployment_id,
    standard_deployment_id,
)


@pytest.mark.parametrize(
    ("five", "code"),
    [
        ("13101", "131016"),  # 千代田区
        ("13000", "130001"),  # 東京都
        ("01100", "011002"),  # 札幌市
        ("27100", "271004"),  # 大阪市
        ("13299", "132993"),  # the demo's fictional まなび市
    ],
)
def test_municipality_check_digit(five: str, code: str) -> None:
    assert five + municipality_check_digit(five) == code


@pytest.mark.parametrize(
    ("level", "code", "expected"),
    [
        (OrgLevel.SCHOOL, "B113210000010", "S_B113210000010"),
        (OrgLevel.SCHOOL, "D147299999999", "S_D147299999999"),
        (OrgLevel.BOARD, "131016", "B_131016"),
        (OrgLevel.BOARD, "132993", "B_132993"),
        (OrgLevel.PREFECTURE, "13", "P_13"),
        (OrgLevel.PREFECTURE, "01", "P_01"),
    ],
)
def test_standard_deployment_id(level: OrgLevel, code: str, expected: str) -> None:
    assert standard_deployment_id(level, code) == expected
    assert parse_deployment_id(expected) == DeploymentId(expected, level)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "S_B11321000001",
            "S_ must be followed by the school's 13-character 学校コード (a letter A–H, a digit, "
            "the prefecture code 01–47, nine digits), not 'B11321000001'",
        ),
        (
            "S_Z113210000010",
            "S_ must be followed by the school's 13-character 学校コード (a letter A–H, a digit, "
            "the prefecture code 01–47, nine digits), not 'Z113210000010'",
        ),
        (
            "S_B199210000010",
            "S_ must be followed by the school's 13-character 学校コード (a letter A–H, a digit, "
            "the prefecture code 01–47, nine digits), not 'B199210000010'",
        ),
        (
            "B_13210",
            "B_ must be followed by the board's 6-digit 地方公共団体コード (prefecture 01–47, "
            "three digits, a check digit), not '13210'",
        ),
        (
            "B_992101",
            "B_ must be followed by the board's 6-digit 地方公共団体コード (prefecture 01–47, "
            "three digits, a check digit), not '992101'",
        ),
        (
            "B_132102",
            "B_132102: the 地方公共団体コード's check digit is wrong (expected 132101)",
        ),
        ("P_48", "P_ must be followed by the two-digit prefecture code 01–47, not '48'"),
        ("P_1", "P_ must be followed by the two-digit prefecture code 01–47, not '1'"),
        ("P_", "P_ must be followed by the two-digit prefecture code 01–47, not ''"),
        ("", "a deployment id is a non-empty string, not ''"),
        (13210, "a deployment id is a non-empty string, not 13210"),
        (
            "132 10",
            "a deployment id is at most 255 printable ASCII characters without spaces, "
            "not '132 10'",
        ),
        (
            "まなび",
            "a deployment id is at most 255 printable ASCII characters without spaces, "
            "not 'まなび'",
        ),
    ],
)
def test_a_malformed_id_names_the_rule(value: object, message: str) -> None:
    with pytest.raises(DeploymentIdError) as raised:
        parse_deployment_id(value)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "value", ["13210", "B113210000010", "cross-site-1", "s_lowercase", "x" * 255]
)
def test_a_legacy_id_is_accepted_and_reported_as_such(value: str) -> None:
    parsed = parse_deployment_id(value)
    assert parsed == DeploymentId(value, None)
    assert not parsed.is_standard


def test_too_long_is_refused() -> None:
    with pytest.raises(DeploymentIdError, match="at most 255"):
        parse_deployment_id("x" * 256)
