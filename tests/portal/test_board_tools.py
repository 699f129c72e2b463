"""The tools pages: a board's review, approval, rejection and deployment; a school's placements.
Others get 404 (the same as a missing object); bad input changes nothing."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from audit.models import AuditEvent
from lti_platform.protocol import constants as c
from tests.factories import PlacementFactory, StudentFactory, TeacherFactory
from tests.portal.test_school_admin import as_user, page
from tests.tools_registry.test_approval import (  # noqa: F401  (the world fixture)
    World,
    approved,
    pending,
    world_fixture,
)
from tools_registry import approval
from tools_registry.models import BoardApproval, Deployment, Placement

pytestmark = pytest.mark.django_db


def board_url(world: World, rest: str = "") -> str:
    return f"/school/board/{world.board.sourced_id}/tools{rest}"


def state() -> tuple[int, int, int, list[tuple[str, object, list[str]]]]:
    from tools_registry.models import Registration

    return (
        Deployment.objects.count(),
        Placement.objects.count(),
        AuditEvent.objects.count(),
        [(r.status, r.is_active, r.allowed_services) for r in Registration.objects.order_by("pk")]
        + [
            (a.status, a.privacy_level, a.granted_scopes)
            for a in BoardApproval.objects.order_by("pk")
        ],
    )


def test_the_board_lists_pending_and_approved_tools(world: World, client: Client) -> None:
    registration = pending()
    other = approved()
    approval.deploy(
        acting_user=world.board_admin, registration=other, board=world.board, schools=[world.sakura]
    )
    parsed = page(as_user(client, world.board_admin), board_url(world))
    assert parsed.tables["pending"][1][0:2] == ["かんじドリル", "運用者が登録"]
    assert parsed.tables["pending"][1][3:] == ["承認待ち", "確認する: かんじドリル"]
    assert parsed.tables["approved"][1][:3] == ["まなびドリル", "有効", "さくら小学校"]
    assert ("確認する: かんじドリル", board_url(world, f"/{registration.pk}")) in parsed.links
    index = page(client, "/school")
    assert ("🧰 まなび市教育委員会のツールの承認と配備", board_url(world)) in index.links


def test_the_review_page_says_what_is_asked_in_plain_words(world: World, client: Client) -> None:
    registration = pending()
    parsed = page(as_user(client, world.board_admin), board_url(world, f"/{registration.pk}"))
    assert parsed.texts["asked-personal"] == (
        "いつも送るもの: ポータルのID（番号。氏名ではありません）、学校・クラス・学年・役割 "
        "求めているもの: 氏名、メールアドレス"
    )
    assert parsed.texts["asked-services"] == (
        "成績の列（課題）を作る・変える・消す（AGS lineitem） "
        "成績の列（課題）を見る（AGS lineitem.readonly） "
        "クラスの成績を見る（AGS result.readonly） "
        "成績を送る（AGS score） "
        "クラスの名簿を見る（NRPS） "
        "先生が課題に使う教材をツールの中で選べます（教材の配信、Deep Linking）"
    )
    assert parsed.texts["status"] == "承認待ち"


@pytest.mark.parametrize(
    "url",
    [
        "/school/board/{board}/tools",
        "/school/board/{board}/tools/{pk}",
        "/school/board/{other}/tools",
        "/school/board/{board}/tools/999999",
    ],
)
@pytest.mark.parametrize("who", ["sakura_admin", "other_board_admin", "student", "teacher"])
def test_others_get_404(world: World, client: Client, url: str, who: str) -> None:
    registration = pending()
    users = {
        "sakura_admin": world.sakura_admin,
        "other_board_admin": world.other_board_admin,
        "student": StudentFactory.create(home_class=world.class_5_2),
        "teacher": TeacherFactory.create(org=world.sakura, teaches=[world.class_5_2]),
    }
    as_user(client, users[who])
    path = url.format(
        board=world.board.sourced_id, pk=registration.pk, other=world.sakura.sourced_id
    )
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND
    before = state()
    post = client.post(
        board_url(world, f"/{registration.pk}/approve"), {"privacy_level": "id_only"}
    )
    assert post.status_code == HTTPStatus.NOT_FOUND
    assert state() == before


def test_approve_through_the_form(world: World, client: Client) -> None:
    registration = pending()
    as_user(client, world.board_admin)
    response = client.post(
        board_url(world, f"/{registration.pk}/approve"),
        {"privacy_level": "name", "scopes": [c.SCOPE_SCORE]},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == board_url(world, f"/{registration.pk}")
    row = BoardApproval.objects.get(registration=registration, board=world.board)
    assert (row.status, row.granted_scopes, row.privacy_level, row.deep_linking) == (
        "approved",
        [c.SCOPE_SCORE],
        "name",
        False,
    )
    parsed = page(client, board_url(world, f"/{registration.pk}"))
    assert parsed.texts["messages"] == "「かんじドリル」を承認しました。"
    assert parsed.texts["status"] == "承認済み（有効）"
    assert parsed.texts["granted"] == "氏名を送ります 成績を送る（AGS score）"


@pytest.mark.parametrize(
    ("action", "data", "errors"),
    [
        ("approve", {"privacy_level": "everything"}, "privacy-errors"),
        ("approve", {"privacy_level": "id_only", "scopes": ["magic"]}, "services-errors"),
        ("approve", {"privacy_level": "id_only", "scopes": ["ags"]}, "services-errors"),
        ("approve", {}, "privacy-errors"),
        ("reject", {"reason": ""}, "reason-errors"),
        ("reject", {"reason": "あ" * 2001}, "reason-errors"),
    ],
)
def test_bad_review_input_changes_nothing(
    world: World, client: Client, action: str, data: dict[str, object], errors: str
) -> None:
    registration = pending()
    as_user(client, world.board_admin)
    before = state()
    response = client.post(board_url(world, f"/{registration.pk}/{action}"), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert f'data-testid="{errors}"' in response.content.decode()
    assert state() == before


def test_reject_through_the_form(world: World, client: Client) -> None:
    registration = pending()
    as_user(client, world.board_admin)
    response = client.post(
        board_url(world, f"/{registration.pk}/reject"), {"reason": "利用規約がありません。"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == board_url(world)
    parsed = page(client, board_url(world))
    assert parsed.tables["rejected"][1] == ["かんじドリル", "利用規約がありません。"]


def test_deploy_through_the_form(world: World, client: Client) -> None:
    registration = approved()
    as_user(client, world.board_admin)
    url = board_url(world, f"/{registration.pk}/deploy")
    before = state()
    for bad in (
        {"where": "schools"},
        {"where": "elsewhere"},
        {"where": "schools", "schools": [str(world.other_school.sourced_id)]},
    ):
        assert client.post(url, bad).status_code == HTTPStatus.BAD_REQUEST
    assert state() == before
    response = client.post(url, {"where": "schools", "schools": [str(world.midori.sourced_id)]})
    assert response.status_code == HTTPStatus.FOUND
    parsed = page(client, board_url(world, f"/{registration.pk}"))
    assert parsed.tables["deployments"][1] == [
        "みどり中学校",
        approval.default_deployment_id(world.midori),
        "有効",
        "氏名を送ります",  # the factory's registration: names, no services
    ]


def school_url(world: World, rest: str = "") -> str:
    return f"/school/{world.sakura.sourced_id}/tools{rest}"


def test_a_school_administrator_places_and_removes(world: World, client: Client) -> None:
    registration = approved()
    (deployment,) = approval.deploy(
        acting_user=world.board_admin, registration=registration, board=world.board
    )
    as_user(client, world.sakura_admin)
    school_page = page(client, f"/school/{world.sakura.sourced_id}")
    assert ("🧰 ツールの配置", school_url(world)) in school_page.links
    response = client.post(
        school_url(world, "/place"),
        {
            "deployment": str(deployment.pk),
            "target": str(world.class_5_2.sourced_id),
            "audience": "students",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == school_url(world)
    parsed = page(client, school_url(world))
    assert parsed.tables["placements"][1][:4] == [
        "✏️ まなびドリル",
        "5年2組",
        "児童生徒",
        "まなび市教育委員会",
    ]
    placement = Placement.objects.get()
    response = client.post(school_url(world, f"/{placement.pk}/remove"))
    assert response.status_code == HTTPStatus.FOUND
    assert not Placement.objects.exists()


def test_bad_placement_input_changes_nothing(world: World, client: Client) -> None:
    registration = approved()
    (sakura_only,) = approval.deploy(
        acting_user=world.board_admin,
        registration=registration,
        board=world.board,
        schools=[world.sakura],
    )
    other = PlacementFactory.create(school_class=world.other_class)
    as_user(client, world.midori_admin)
    before = state()
    midori = f"/school/{world.midori.sourced_id}/tools"
    bad = [
        {"deployment": str(sakura_only.pk), "audience": "all"},  # does not cover みどり
        {"deployment": "x", "audience": "all"},
        {"deployment": "", "audience": "all"},
    ]
    for data in bad:
        assert client.post(midori + "/place", data).status_code == HTTPStatus.BAD_REQUEST
    as_user(client, world.sakura_admin)
    for data in (
        {
            "deployment": str(sakura_only.pk),
            "target": str(world.other_class.sourced_id),
            "audience": "all",
        },
        {"deployment": str(sakura_only.pk), "audience": "parents"},
    ):
        assert client.post(school_url(world, "/place"), data).status_code == HTTPStatus.BAD_REQUEST
    # another school's placement, another school's page
    assert client.post(school_url(world, f"/{other.pk}/remove")).status_code == HTTPStatus.NOT_FOUND
    assert client.get(midori).status_code == HTTPStatus.NOT_FOUND
    assert client.post(midori + "/place", {}).status_code == HTTPStatus.NOT_FOUND
    assert state() == before
