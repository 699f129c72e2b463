"""The dashboards' local query: filters, order, bounds, and that it uses the indexes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from roster.models import SchoolClass, User
from studylog import query
from studylog.models import Statement
from tests.studylog.test_capture import record

pytestmark = pytest.mark.django_db


def test_statements_by_person_class_verb_and_time(demo_school: dict[str, User]) -> None:
    a, b = demo_school["sakura-5-2-03"], demo_school["sakura-5-2-04"]
    record(a, 8, "2026-05-01T09:30:00Z")
    record(b, 6, "2026-05-01T09:31:00Z")
    record(a, 9, "2026-05-02T09:30:00Z")
    school_class = SchoolClass.objects.get(class_code="5-2")
    mine = query.statements(user_id=a.pk)
    assert [f.statement["result"]["score"]["raw"] for f in mine] == [9.0, 8.0]  # newest first
    assert [f.user_id for f in query.statements(school_class_id=school_class.pk)] == [
        a.pk,
        b.pk,
        a.pk,
    ]
    day = datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC)
    first_day = query.statements(
        school_class_id=school_class.pk, since=day, until=day + datetime.timedelta(days=1)
    )
    assert [f.user_id for f in first_day] == [b.pk, a.pk]
    assert query.statements(verbs=["http://adlnet.gov/expapi/verbs/launched"]) == []
    assert len(query.statements(school_class_id=school_class.pk, limit=1)) == 1
    Statement.objects.filter(user=b).update(voided=True)
    assert [f.user_id for f in query.statements(school_class_id=school_class.pk)] == [a.pk, a.pk]


def test_a_query_without_a_person_class_tool_or_verb_is_refused() -> None:
    with pytest.raises(ValueError, match="give a person, a class, a tool or verbs"):
        query.statements(since=timezone.now())


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"user_id": 1}, "studylog_user_time"),
        ({"school_class_id": 1}, "studylog_class_time"),
        ({"tool_id": 1}, "studylog_tool_time"),
        ({"verbs": ["http://adlnet.gov/expapi/verbs/scored"]}, "studylog_verb_time"),
    ],
)
def test_each_filter_is_served_by_its_index(filters: dict[str, object], index: str) -> None:
    rows = Statement.objects.filter(voided=False)
    for name, value in filters.items():
        rows = rows.filter(**({"verb__in": value} if name == "verbs" else {name: value}))
    sql, params = rows.order_by("-timestamp", "-id")[:10].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert index in plan, plan
