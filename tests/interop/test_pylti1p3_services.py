"""pylti1p3's service connector uses our token endpoint, AGS 2.0 and NRPS 2.0 over HTTP."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem as ToolLineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from demo_tools import config
from lti_platform.protocol import constants as c
from roster.demo import DEMO_PASSWORD
from roster.models import Enrollment, EnrollmentStatus, RosterRole, SchoolClass, User
from tests.interop.test_pylti1p3_launch import launch
from tests.ltiflow import Browser


def connector(platform_url: str, slug: str = "drill") -> ServiceConnector:
    conf = config.tool_conf(slug)
    assert conf is not None
    registration = conf.find_registration(platform_url)
    return ServiceConnector(registration)


def launch_claims(
    platform_url: str, username: str, kind: str, class_code: str | None = None
) -> dict[str, Any]:
    browser = Browser(platform_url)
    browser.sign_in(username, DEMO_PASSWORD)
    claims, page = launch(browser, kind, class_code)
    assert page.status_code == 200
    return claims


def now_iso(offset: float = 0) -> str:
    moment = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=offset)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_ags_line_items_scores_results(platform: str) -> None:
    claims = launch_claims(platform, "sakura-5-2-01", "drill")
    endpoint = claims[c.CLAIM_AGS_ENDPOINT]
    assert set(endpoint["scope"]) == set(c.AGS_SCOPES)
    assert "lineitem" not in endpoint  # no line item for this resource link yet
    ags = AssignmentsGradesService(connector(platform), endpoint)

    wanted = (
        ToolLineItem()
        .set_label("たしざん 1")
        .set_score_maximum(10)
        .set_resource_id("add-1")
        .set_tag("drill")
        .set_resource_link_id(claims[c.CLAIM_RESOURCE_LINK]["id"])
    )
    item = ags.find_or_create_lineitem(wanted)
    item_url = item.get_id()
    assert item_url is not None
    assert "?" not in item_url and item_url.startswith(endpoint["lineitems"] + "/")
    again = ags.find_or_create_lineitem(wanted, find_by="resource_id")
    assert again.get_id() == item.get_id()
    found = ags.find_lineitem_by_tag("drill")
    assert found is not None and found.get_id() == item_url

    grade = (
        Grade()
        .set_user_id(claims["sub"])
        .set_score_given(8)
        .set_score_maximum(10)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(now_iso())
        .set_comment("よくできました")
    )
    ags.put_grade(grade, item)
    results = ags.get_grades(item)
    assert results == [
        {
            "id": f"{item.get_id()}/results/{claims['sub']}",
            "scoreOf": item.get_id(),
            "userId": claims["sub"],
            "resultScore": 8.0,
            "resultMaximum": 10.0,
            "comment": "よくできました",
            "timestamp": results[0]["timestamp"],
        }
    ]
    # The next launch of this resource link carries the line item (MEXCBT expects it).
    claims = launch_claims(platform, "sakura-5-2-01", "drill")
    assert claims[c.CLAIM_AGS_ENDPOINT]["lineitem"] == item.get_id()


def test_ags_paging_follows_link_headers(platform: str) -> None:
    claims = launch_claims(platform, "sakura-5-2-01", "drill")
    endpoint: Any = dict(claims[c.CLAIM_AGS_ENDPOINT])
    ags = AssignmentsGradesService(connector(platform), endpoint)
    for n in range(5):
        ags.find_or_create_lineitem(
            ToolLineItem().set_label(f"item {n}").set_score_maximum(5).set_tag(f"t{n}")
        )
    endpoint["lineitems"] += "?limit=2"
    paged = AssignmentsGradesService(connector(platform), endpoint)
    assert [i["label"] for i in paged.get_lineitems()] == [f"item {n}" for n in range(5)]


def test_nrps_pages_over_100_members_and_filters_roles(platform: str) -> None:
    school_class = SchoolClass.objects.get(class_code="1-A")
    students = User.objects.bulk_create(
        User(
            username=f"extra-{n:03d}",
            last_name="生徒",
            first_name=str(n),
            role=RosterRole.STUDENT,
            grade="J1",
            org=school_class.school,
        )
        for n in range(150)
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            user=u,
            school_class=school_class,
            school=school_class.school,
            role=RosterRole.STUDENT,
            shusseki_no=n + 10,
        )
        for n, u in enumerate(students)
    )
    claims = launch_claims(platform, "midori-t-suzuki", "drill", "1-A")
    nrps_claim = claims[c.CLAIM_NRPS]
    assert nrps_claim["service_versions"] == ["2.0"]
    nrps = NamesRolesProvisioningService(connector(platform), nrps_claim)
    members = nrps.get_members()
    assert len(members) == 150 + 6 + 1  # extras, demo students, the teacher
    assert len({m["user_id"] for m in members}) == len(members)
    teacher = User.objects.get(username="midori-t-suzuki")
    [instructor] = [m for m in members if c.Role.CONTEXT_INSTRUCTOR in m["roles"]]
    assert instructor == {
        "status": "Active",
        "user_id": str(teacher.eportal_uuid),
        "roles": [c.Role.CONTEXT_INSTRUCTOR.value],
        "lis_person_sourcedid": str(teacher.sourced_id),
        "name": teacher.full_name,
        "given_name": teacher.first_name,
        "family_name": teacher.last_name,
    }
    for role in ("Instructor", c.Role.CONTEXT_INSTRUCTOR.value):
        filtered = NamesRolesProvisioningService(
            connector(platform),
            {
                **nrps_claim,
                "context_memberships_url": nrps_claim["context_memberships_url"]
                + f"?role={quote(role, safe='')}",
            },
        )
        assert [m["user_id"] for m in filtered.get_members()] == [str(teacher.eportal_uuid)]

    # rlid adds the message each member would get for that resource link.
    with_rlid = nrps.get_members(resource_link_id=claims[c.CLAIM_RESOURCE_LINK]["id"])
    student = next(m for m in with_rlid if m["user_id"] == str(students[0].eportal_uuid))
    assert student["message"] == [
        {
            c.CLAIM_MESSAGE_TYPE: "LtiResourceLinkRequest",
            c.CLAIM_CUSTOM: {
                "grade": "J1",
                "user_id": str(students[0].eportal_uuid),
                "class_name": "1年A組",
                "role": c.Role.CONTEXT_LEARNER.value,
            },
        }
    ]


def test_nrps_link_header_and_differences(platform: str) -> None:
    claims = launch_claims(platform, "midori-t-suzuki", "drill", "1-A")
    url = claims[c.CLAIM_NRPS]["context_memberships_url"]
    token = connector(platform).get_access_token([c.SCOPE_NRPS])
    headers = {"Authorization": f"Bearer {token}", "Accept": c.MEDIA_MEMBERSHIP_CONTAINER}
    response = requests.get(url + "?limit=3", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == c.MEDIA_MEMBERSHIP_CONTAINER
    next_url = f"{url}?limit=3&page=2"
    link = response.headers["Link"]
    assert link.startswith(f'<{next_url}>; rel="next", <{url}?since=')
    assert link.endswith('>; rel="differences"')
    differences = link.split(", ")[1][1:].split(">")[0]

    # A student leaves the class: the differences link reports them as Deleted.
    leaving = Enrollment.objects.filter(school_class__class_code="1-A", role="student").first()
    assert leaving is not None
    leaving.status = EnrollmentStatus.TO_BE_DELETED
    leaving.save()
    changed = requests.get(differences, headers=headers, timeout=10).json()["members"]
    assert [(m["user_id"], m["status"]) for m in changed] == [
        (str(leaving.user.eportal_uuid), "Deleted")
    ]
    current = requests.get(url, headers=headers, timeout=10).json()["members"]
    assert str(leaving.user.eportal_uuid) not in {m["user_id"] for m in current}


def test_token_endpoint_refetches_the_tool_jwks_once_on_an_unknown_kid(platform: str) -> None:
    """The drill rotates its key after the platform cached the drill's JWKS."""
    first = connector(platform)
    assert first.get_access_token([c.SCOPE_SCORE])
    old_kid = first._registration.get_kid()
    (config.key_dir() / "drill.pem").unlink()  # the tool makes and publishes a new key
    second = connector(platform)
    assert second._registration.get_kid() != old_kid
    assert second.get_access_token([c.SCOPE_SCORE])


def test_paging_links_survive_pylti1p3_lowercasing(platform: str) -> None:
    """pylti1p3 lowercases the Link header; filter values are percent-encoded to survive it."""
    claims = launch_claims(platform, "sakura-5-2-01", "drill")
    endpoint: Any = dict(claims[c.CLAIM_AGS_ENDPOINT])
    ags = AssignmentsGradesService(connector(platform), endpoint)
    for n in range(3):
        ags.find_or_create_lineitem(
            ToolLineItem()
            .set_label(f"Quiz {n}")
            .set_score_maximum(5)
            .set_tag(f"t{n}")
            .set_resource_id("Unit-A")
        )
    endpoint["lineitems"] += "?limit=1&resource_id=Unit-A"
    paged = AssignmentsGradesService(connector(platform), endpoint)
    assert [i["label"] for i in paged.get_lineitems()] == ["Quiz 0", "Quiz 1", "Quiz 2"]


def test_assertion_with_a_kid_the_tool_never_published_is_refused(platform: str) -> None:
    """Unknown kid: one refetch of the tool's JWKS, then invalid_client; no token is issued."""
    import time
    import uuid

    import jwt

    from lti_platform.models import AccessToken
    from lti_platform.protocol.jose import generate_private_key

    conf = config.tool_conf("drill")
    assert conf is not None
    client_id = conf.find_registration(platform).get_client_id()
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": platform + "/lti/token",
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        },
        generate_private_key(),
        algorithm="RS256",
        headers={"kid": "never-published"},
    )
    response = requests.post(
        platform + "/lti/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": c.SCOPE_SCORE,
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "no key with kid 'never-published' in the tool's JWKS",
    }
    assert not AccessToken.objects.exists()
