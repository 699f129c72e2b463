"""Registering tools from a JSON spec: idempotent, validated, all-or-nothing."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from roster.models import Org, OrgType
from tests.factories import SchoolClassFactory, SchoolFactory
from tools_registry.errors import ToolSpecError
from tools_registry.models import Deployment, Placement, Registration, Tool
from tools_registry.services import default_deployment_id, register_tool_from_spec

pytestmark = pytest.mark.django_db

SAKURA, MIDORI = "B113210000010", "C113210000019"

SPEC: dict[str, Any] = {
    "tool": {"slug": "kanji", "name": "漢字ドリル", "kind": "drill"},
    "registration": {
        "initiate_login_uri": "https://kanji.example.jp/lti/login",
        "redirect_uris": ["https://kanji.example.jp/lti/launch"],
        "target_link_uri": "https://kanji.example.jp/lti/launch",
        "jwks_url": "https://kanji.example.jp/.well-known/jwks.json",
        "custom_parameters": {"class_name": "$Context.title"},
        "allowed_services": ["ags"],
        "privacy_level": "name",
    },
    "deployments": [
        {
            "org": SAKURA,
            "placements": [{"school": SAKURA, "class": "5-2", "title": "漢字"}],
        }
    ],
}


@pytest.fixture
def schools(school_class_factory: type[SchoolClassFactory]) -> None:
    """A board with two schools; the first has the class 5-2 the spec places the tool for."""
    sakura = school_class_factory.create(class_code="5-2", school__identifier=SAKURA).school
    school_class_factory.create(school__identifier=MIDORI, school__parent=sakura.parent)


def test_register_from_file_prints_tool_side_configuration(
    schools: None, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "kanji.json"
    path.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")
    call_command("register_tool", str(path))
    out = json.loads(capsys.readouterr().out)
    registration = Registration.objects.get(tool__slug="kanji")
    assert out == {
        "tool": "kanji",
        "issuer": "http://testserver",
        "client_id": registration.client_id,
        "deployment_ids": ["S_" + SAKURA],
        "auth_login_url": "http://testserver/lti/authorize",
        "key_set_url": "http://testserver/lti/jwks",
    }
    # Running it again changes nothing and keeps the client_id.
    call_command("register_tool", str(path))
    assert Registration.objects.get(tool__slug="kanji").client_id == registration.client_id
    assert Placement.objects.filter(deployment__registration=registration).count() == 1


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("tool", "slug"), "", "tool.slug: required"),
        (("tool", "kind"), "game", "tool.kind: must be one of"),
        (("registration", "redirect_uris"), [], "registration.redirect_uris: a non-empty list"),
        (("registration", "redirect_uris"), ["javascript:alert(1)"], "not an http(s) URL"),
        (("registration", "initiate_login_uri"), "ftp://x", "initiate_login_uri: not an http(s)"),
        (("registration", "privacy_level"), "everything", "privacy_level: must be one of"),
        (("registration", "allowed_services"), ["grades"], "unknown ['grades']"),
        (("registration", "custom_parameters"), {"n": 1}, "an object of strings"),
        (("registration", "public_key_pem"), "abc", "not a PEM public key"),
        (("registration", "platform_storage"), "yes", "platform_storage: true or false"),
    ],
)
def test_invalid_spec_names_the_field_and_writes_nothing(
    schools: None, path: tuple[str, str], value: Any, message: str
) -> None:
    spec = copy.deepcopy(SPEC)
    spec[path[0]][path[1]] = value
    before = (Tool.objects.count(), Registration.objects.count(), Deployment.objects.count())
    with pytest.raises(
        ToolSpecError,
        match=re.escape(message),
    ):
        register_tool_from_spec(spec)
    assert (
        Tool.objects.count(),
        Registration.objects.count(),
        Deployment.objects.count(),
    ) == before


def test_unknown_class_rolls_back_the_whole_spec(schools: None) -> None:
    spec = copy.deepcopy(SPEC)
    spec["deployments"][0]["placements"][0]["class"] = "9-9"
    with pytest.raises(ToolSpecError, match="no class '9-9'"):
        register_tool_from_spec(spec)
    assert not Tool.objects.filter(slug="kanji").exists()


def test_placement_outside_the_deployment_org_is_refused(schools: None) -> None:
    spec = copy.deepcopy(SPEC)
    spec["deployments"][0]["placements"][0] = {"school": MIDORI}
    with pytest.raises(ToolSpecError, match="not covered by the deployment's org"):
        register_tool_from_spec(spec)
    assert not Tool.objects.filter(slug="kanji").exists()


def test_command_reports_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape("bad.json")):
        call_command("register_tool", str(path))


def test_a_reserved_custom_parameter_is_refused(schools: None) -> None:
    spec = copy.deepcopy(SPEC)
    spec["registration"]["custom_parameters"] = {"grade": "5年"}
    with pytest.raises(ToolSpecError, match="grade is set by the platform"):
        register_tool_from_spec(spec)
    assert not Tool.objects.filter(slug="kanji").exists()


def test_platform_storage_is_off_unless_the_spec_says_so(schools: None) -> None:
    spec = copy.deepcopy(SPEC)
    register_tool_from_spec(spec)
    assert Registration.objects.get(tool__slug="kanji").platform_storage is False
    spec["registration"]["platform_storage"] = True
    register_tool_from_spec(spec)
    assert Registration.objects.get(tool__slug="kanji").platform_storage is True


# --- deployment ids in the 学習eポータル標準モデル's form ------------------------------------


@pytest.fixture
def board() -> None:
    """A board with a real-form 地方公共団体コード and its school with a 学校コード."""
    sakura = SchoolFactory.create(
        identifier=SAKURA, parent__identifier="132993", parent__name="まなび市教育委員会"
    )
    SchoolClassFactory.create(school=sakura, class_code="5-2")


def _with_deployments(*deployments: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    spec["deployments"] = list(deployments)
    return spec


def test_deployment_ids_default_to_the_standard_form(board: None) -> None:
    registration = register_tool_from_spec(_with_deployments({"org": "132993"}, {"org": SAKURA}))
    assert sorted(registration.deployments.values_list("deployment_id", flat=True)) == [
        "B_132993",
        "S_B113210000010",
    ]


@pytest.mark.parametrize("deployment_id", ["B_132993", "S_B113210000010", "P_13"])
def test_a_given_standard_id_is_kept(board: None, deployment_id: str) -> None:
    registration = register_tool_from_spec(
        _with_deployments({"deployment_id": deployment_id, "org": "132993"})
    )
    assert list(registration.deployments.values_list("deployment_id", flat=True)) == [deployment_id]


@pytest.mark.parametrize(
    ("deployment_id", "message"),
    [
        (
            "B_13210",
            "deployments[0].deployment_id: B_ must be followed by the board's 6-digit "
            "地方公共団体コード (prefecture 01–47, three digits, a check digit), not '13210'",
        ),
        (
            "B_132990",
            "deployments[0].deployment_id: B_132990: the 地方公共団体コード's check digit is "
            "wrong (expected 132993)",
        ),
        (
            "S_B1132100000",
            "deployments[0].deployment_id: S_ must be followed by the school's 13-character "
            "学校コード (a letter A–H, a digit, the prefecture code 01–47, nine digits), "
            "not 'B1132100000'",
        ),
        (
            "P_99",
            "deployments[0].deployment_id: P_ must be followed by the two-digit prefecture "
            "code 01–47, not '99'",
        ),
        (
            "board one",
            "deployments[0].deployment_id: a deployment id is at most 255 printable ASCII "
            "characters without spaces, not 'board one'",
        ),
    ],
)
def test_a_malformed_standard_id_names_the_rule_and_writes_nothing(
    board: None, deployment_id: str, message: str
) -> None:
    spec = _with_deployments({"deployment_id": deployment_id, "org": "132993"})
    with pytest.raises(ToolSpecError) as raised:
        register_tool_from_spec(spec)
    assert str(raised.value) == message
    assert (Tool.objects.count(), Registration.objects.count(), Deployment.objects.count()) == (
        0,
        0,
        0,
    )


def test_a_legacy_id_is_accepted_with_a_warning(board: None, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "kanji.json"
    spec = _with_deployments({"deployment_id": "13210", "org": "132993"})
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    call_command("register_tool", str(path))
    captured = capsys.readouterr()
    assert json.loads(captured.out)["deployment_ids"] == ["13210"]
    assert captured.err == (
        "warning: deployment_id '13210' (まなび市教育委員会) is not in the 学習eポータル標準モデル "
        "form (S_ + 学校コード, B_ + 地方公共団体コード, P_ + 都道府県コード): tools that check "
        "it refuse every launch; use 'B_132993' (or omit deployment_id)\n"
    )


def test_an_org_without_a_standard_code_keeps_its_bare_code(schools: None) -> None:
    board = Org.objects.get(type=OrgType.DISTRICT)
    assert default_deployment_id(board) == board.identifier  # 9xxxxx: no prefecture 90–99
    assert default_deployment_id(SchoolFactory.build(identifier="")) == ""
