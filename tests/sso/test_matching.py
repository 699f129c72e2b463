"""sso.matching: which roster user an upstream identity is, and every way it is refused."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from roster.models import RosterRole
from sso import replay, signin_log
from sso.matching import MatchRefused, UpstreamIdentity, match_user
from sso.models import FailureReason, IdpKind, MatchRule, SignInFailure
from tests.factories import (
    DistrictFactory,
    OperatorFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
    UserFactory,
)
from tests.sso.idps import make_idp

pytestmark = pytest.mark.django_db


def refused(idp, identity) -> tuple[FailureReason, str]:
    with pytest.raises(MatchRefused) as caught:
        match_user(idp, identity)
    return caught.value.reason, caught.value.detail


def student_of(school, **fields):
    return StudentFactory.create(home_class=SchoolClassFactory.create(school=school), **fields)


def by_username(username: str, **claims) -> UpstreamIdentity:
    return UpstreamIdentity(subject="sub-1", claims={"preferred_username": username, **claims})


def test_a_boards_provider_matches_its_schools_students_by_username():
    school = SchoolFactory.create()
    child = student_of(school)
    idp = make_idp(school.parent)
    assert match_user(idp, by_username(child.username)) == child


def test_a_schools_provider_never_matches_a_student_of_a_sister_school():
    school = SchoolFactory.create()
    sister = SchoolFactory.create(parent=school.parent)
    child = student_of(sister)
    assert refused(make_idp(school), by_username(child.username)) == (FailureReason.OTHER_ORG, "")


def test_a_student_of_another_board_never_matches_whatever_the_claim_says():
    other = student_of(SchoolFactory.create())
    idp = make_idp(DistrictFactory.create())
    assert refused(idp, by_username(other.username)) == (FailureReason.OTHER_ORG, "")


def test_sourced_id_rule():
    school = SchoolFactory.create()
    child = student_of(school)
    idp = make_idp(school.parent, match_rule=MatchRule.SOURCED_ID, match_claim="sourcedId")
    assert match_user(idp, UpstreamIdentity("s", {"sourcedId": str(child.sourced_id)})) == child
    # SAML attributes arrive as lists of values
    assert match_user(idp, UpstreamIdentity("s", {"sourcedId": [str(child.sourced_id)]})) == child
    assert refused(idp, UpstreamIdentity("s", {"sourcedId": "not-a-uuid"})) == (
        FailureReason.UNMATCHED,
        "not a sourcedId",
    )
    two = [str(child.sourced_id), "00000000-0000-4000-8000-000000000000"]
    assert refused(idp, UpstreamIdentity("s", {"sourcedId": two})) == (
        FailureReason.NO_MATCH_CLAIM,
        "claim=sourcedId",
    )


def test_missing_claim_and_unknown_user():
    idp = make_idp(DistrictFactory.create())
    assert refused(idp, UpstreamIdentity("s", {})) == (
        FailureReason.NO_MATCH_CLAIM,
        "claim=preferred_username",
    )
    assert refused(idp, by_username("nobody-here")) == (FailureReason.UNMATCHED, "")


def test_email_rule_needs_a_verified_address_in_an_allowed_domain():
    school = SchoolFactory.create()
    teacher = TeacherFactory.create(org=school, email="kato@sakura.manabi.ed.jp")
    idp = make_idp(
        school.parent,
        match_rule=MatchRule.EMAIL,
        match_claim="",
        allowed_domains=["sakura.manabi.ed.jp"],
        allow_staff=True,
    )
    ok = UpstreamIdentity("s", {}, email="Kato@sakura.manabi.ed.jp", email_verified=True)
    assert match_user(idp, ok) == teacher
    unverified = UpstreamIdentity("s", {}, email=teacher.email, email_verified=False)
    assert refused(idp, unverified) == (FailureReason.EMAIL_UNVERIFIED, "")
    elsewhere = UpstreamIdentity("s", {}, email="kato@evil.example", email_verified=True)
    assert refused(idp, elsewhere) == (FailureReason.WRONG_DOMAIN, "email domain=evil.example")


def test_roles_the_provider_admits():
    school = SchoolFactory.create()
    teacher = TeacherFactory.create(org=school)
    child = student_of(school)
    students_only = make_idp(school)
    assert refused(students_only, by_username(teacher.username)) == (
        FailureReason.ROLE_NOT_ALLOWED,
        "role=teacher",
    )
    staff_only = make_idp(school, allow_students=False, allow_staff=True)
    assert match_user(staff_only, by_username(teacher.username)) == teacher
    assert refused(staff_only, by_username(child.username))[0] == FailureReason.ROLE_NOT_ALLOWED


def test_operators_vendors_and_inactive_users_never_sign_in_upstream():
    board = DistrictFactory.create()
    school = SchoolFactory.create(parent=board)
    idp = make_idp(board, allow_staff=True)
    operator = OperatorFactory.create(org=board)
    vendor = UserFactory.create(org=board, role=RosterRole.VENDOR)
    assert refused(idp, by_username(operator.username)) == (
        FailureReason.ROLE_NOT_ALLOWED,
        "operator",
    )
    assert refused(idp, by_username(vendor.username)) == (
        FailureReason.ROLE_NOT_ALLOWED,
        "role=vendor",
    )
    gone = student_of(school, is_active=False)
    assert refused(idp, by_username(gone.username)) == (FailureReason.INACTIVE, "")


def test_disabled_provider():
    school = SchoolFactory.create()
    child = student_of(school)
    assert refused(make_idp(school, enabled=False), by_username(child.username)) == (
        FailureReason.DISABLED,
        "",
    )


def test_google_hd_is_checked_by_us():
    school = SchoolFactory.create()
    child = student_of(school)
    idp = make_idp(school, kind=IdpKind.GOOGLE, allowed_domains=["manabi.ed.jp"])
    assert match_user(idp, by_username(child.username, hd="MANABI.ed.jp")) == child
    assert refused(idp, by_username(child.username, hd="other.example")) == (
        FailureReason.WRONG_DOMAIN,
        "hd=other.example",
    )
    assert refused(idp, by_username(child.username)) == (FailureReason.WRONG_DOMAIN, "hd missing")


def test_entra_tid_is_checked():
    school = SchoolFactory.create()
    child = student_of(school)
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    idp = make_idp(school, kind=IdpKind.ENTRA, tenant_id=tenant)
    assert match_user(idp, by_username(child.username, tid=tenant.upper())) == child
    other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert refused(idp, by_username(child.username, tid=other)) == (
        FailureReason.WRONG_TENANT,
        f"tid={other}",
    )


def test_failure_log_keeps_no_name_or_address_in_clear():
    idp = make_idp(DistrictFactory.create())
    row = signin_log.record_failure(
        idp, FailureReason.UNMATCHED, subject="sub-123", email="taro@example.jp", detail="x"
    )
    again = signin_log.record_failure(idp, FailureReason.UNMATCHED, subject="sub-123")
    assert row is not None and again is not None
    assert row.email_domain == "example.jp"
    assert row.subject_digest == again.subject_digest
    assert "sub-123" not in row.subject_digest
    assert len(row.subject_digest) == 64
    assert SignInFailure.objects.filter(idp=idp).count() == 2


def test_an_assertion_is_consumed_once_per_provider():
    board = DistrictFactory.create()
    idp, other = make_idp(board), make_idp(board)
    expires = timezone.now() + datetime.timedelta(minutes=5)
    assert replay.consume(idp=idp, assertion_id="_abc", expires_at=expires)
    assert not replay.consume(idp=idp, assertion_id="_abc", expires_at=expires)
    assert replay.consume(idp=other, assertion_id="_abc", expires_at=expires)
    assert replay.prune(now=expires + datetime.timedelta(seconds=1)) == 2
    assert replay.consume(idp=idp, assertion_id="_abc", expires_at=expires)


def test_failure_log_is_bounded_per_minute_and_in_age(settings):
    settings.SSO_FAILURE_LOG_PER_MINUTE = 2
    idp = make_idp(DistrictFactory.create())
    old = SignInFailure.objects.create(
        idp=idp, reason=FailureReason.STATE, at=timezone.now() - datetime.timedelta(days=91)
    )
    assert signin_log.record_failure(idp, FailureReason.STATE) is not None
    assert not SignInFailure.objects.filter(pk=old.pk).exists()  # past 90 days: gone
    assert signin_log.record_failure(idp, FailureReason.STATE) is not None
    assert signin_log.record_failure(idp, FailureReason.STATE) is None  # the minute is full
    assert SignInFailure.objects.filter(idp=idp).count() == 2
    other = make_idp(DistrictFactory.create())
    assert signin_log.record_failure(other, FailureReason.STATE) is not None
