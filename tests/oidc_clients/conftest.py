"""Fixtures for the OIDC provider: a board with two schools, people, a second board, and a
client factory that registers through the board's own service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lti_platform.keys import ensure_keys
from oidc_clients import services
from oidc_clients.services import ClientSettings, Issued
from roster.models import Org, SchoolClass, User
from tests.factories import (
    BoardAdministratorFactory,
    DistrictFactory,
    SchoolClassFactory,
    SchoolFactory,
    StudentFactory,
    TeacherFactory,
)
from tools_registry.models import PrivacyLevel

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass
class Board:
    board: Org
    school: Org
    other_school: Org
    klass: SchoolClass
    other_class: SchoolClass
    admin: User
    student: User
    classmate_elsewhere: User  # a student of the board's other school
    teacher: User
    outsider: User  # a student of another board


@pytest.fixture
def board(db: None) -> Board:
    ensure_keys()
    district = DistrictFactory.create(name="まなび市教育委員会")
    school = SchoolFactory.create(
        parent=district, name="まなび市立さくら小学校", identifier="B113299300015"
    )
    other_school = SchoolFactory.create(parent=district, name="まなび市立みどり中学校")
    klass = SchoolClassFactory.create(school=school, title="5年2組", grades=["P5"])
    other_class = SchoolClassFactory.create(school=school, title="5年1組", grades=["P5"])
    student = StudentFactory.create(
        home_class=klass,
        last_name="佐藤",
        first_name="陽翔",
        kana_family_name="さとう",
        kana_given_name="はると",
        email="haruto@example.jp",
    )
    return Board(
        board=district,
        school=school,
        other_school=other_school,
        klass=klass,
        other_class=other_class,
        admin=BoardAdministratorFactory.create(org=district),
        student=student,
        classmate_elsewhere=StudentFactory.create(
            home_class=SchoolClassFactory.create(school=other_school)
        ),
        teacher=TeacherFactory.create(org=school, teaches=[klass]),
        outsider=StudentFactory.create(),
    )


@pytest.fixture
def register(board: Board) -> Callable[..., Issued]:
    def make(**kwargs: Any) -> Issued:
        values = ClientSettings(
            name=kwargs.pop("name", "よみかきドリル"),
            redirect_uris=kwargs.pop("redirect_uris", [REDIRECT_URI]),
            privacy_level=kwargs.pop("privacy_level", PrivacyLevel.NAME_EMAIL),
            schools=kwargs.pop("schools", ()),
            classes=kwargs.pop("classes", ()),
        )
        assert not kwargs
        return services.register_client(acting_user=board.admin, board=board.board, values=values)

    return make
