"""Who is an active member of a class, and with which role: the one owner of that rule.

An enrollment counts on a day when
- its status is ``active`` (``tobedeleted`` rows stay only for the NRPS differences), and
- the day lies within its ``begin_date``/``end_date`` (either may be empty: open-ended), and
- the class is in session: when the class names its terms (年度, academic sessions), the day
  lies within one of them; a class without terms is always in session.

Everything else (launches, AGS, NRPS, the gradebook, the home screens, later the OneRoster API
and xAPI) calls this module; none of them writes the rule again. ``today`` is the clock seam:
the school's local date (``TIME_ZONE``) unless a caller passes one.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import AcademicSession, Enrollment, EnrollmentStatus, RosterRole, SchoolClass, User

STAFF_ROLES = (RosterRole.TEACHER, RosterRole.ADMINISTRATOR, RosterRole.DISTRICT_ADMINISTRATOR)


def today() -> datetime.date:
    """The school's date now (Asia/Tokyo by default): the day the rule is applied to."""
    return timezone.localdate()


def _in_session(day: datetime.date, class_ref: str) -> Q:
    terms = SchoolClass.terms.through.objects.filter(schoolclass_id=OuterRef(class_ref))
    current = terms.filter(academicsession__start_date__lte=day, academicsession__end_date__gte=day)
    return ~Q(Exists(terms)) | Q(Exists(current))


def _current_q(day: datetime.date) -> Q:
    return (
        Q(status=EnrollmentStatus.ACTIVE)
        & (Q(begin_date__isnull=True) | Q(begin_date__lte=day))
        & (Q(end_date__isnull=True) | Q(end_date__gte=day))
    )


def active_q(day: datetime.date | None = None) -> Q:
    """A filter on Enrollment for the rows that count on ``day``."""
    day = day or today()
    return _current_q(day) & _in_session(day, "school_class_id")


def active_enrollments(day: datetime.date | None = None) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(active_q(day))


def in_session(school_class: SchoolClass, day: datetime.date | None = None) -> bool:
    """Whether the class is in session on ``day`` (no terms, or one term covering the day)."""
    day = day or today()
    spans = AcademicSession.objects.filter(classes=school_class).values_list(
        "start_date", "end_date"
    )
    terms = list(spans)
    return not terms or any(start <= day <= end for start, end in terms)


def is_current(enrollment: Enrollment, day: datetime.date | None = None) -> bool:
    """The enrollment's own part of the rule (status and dates), for a loaded row."""
    day = day or today()
    return (
        enrollment.status == EnrollmentStatus.ACTIVE
        and (enrollment.begin_date is None or enrollment.begin_date <= day)
        and (enrollment.end_date is None or enrollment.end_date >= day)
    )


def is_active(enrollment: Enrollment, day: datetime.date | None = None) -> bool:
    """The whole rule for one loaded enrollment."""
    return is_current(enrollment, day) and in_session(enrollment.school_class, day)


def enrollments_of(user: User, day: datetime.date | None = None) -> QuerySet[Enrollment]:
    """The user's active enrollments, with their classes and schools."""
    return active_enrollments(day).filter(user=user).select_related("school_class__school")


def members(
    school_class: SchoolClass,
    *,
    roles: Iterable[str] | None = None,
    day: datetime.date | None = None,
) -> QuerySet[Enrollment]:
    """The active enrollments of a class, optionally of some roles, with their users.

    The class's session is checked once here rather than per row (a class list is read in
    pages of up to 1,000)."""
    day = day or today()
    if not in_session(school_class, day):
        return Enrollment.objects.none()
    rows = Enrollment.objects.filter(_current_q(day), school_class=school_class)
    if roles is not None:
        rows = rows.filter(role__in=list(roles))
    return rows.select_related("user")


def is_member(
    user: User,
    school_class: SchoolClass,
    *,
    roles: Iterable[str] | None = None,
    day: datetime.date | None = None,
) -> bool:
    rows = active_enrollments(day).filter(user=user, school_class=school_class)
    if roles is not None:
        rows = rows.filter(role__in=list(roles))
    return rows.exists()


def student_counts(class_ids: Iterable[int], day: datetime.date | None = None) -> dict[int, int]:
    """The number of active students per class, in one query."""
    from django.db.models import Count

    rows = (
        active_enrollments(day)
        .filter(school_class_id__in=list(class_ids), role=RosterRole.STUDENT)
        .values("school_class_id")
        .annotate(n=Count("pk"))
    )
    return {row["school_class_id"]: row["n"] for row in rows}


_e = Enrollment._meta.db_table
_t = SchoolClass.terms.through._meta.db_table
_s = AcademicSession._meta.db_table
_u = User._meta.db_table
# Hand-written: these run on every launch step, every score POST and every child's home page,
# where the ORM spends ~20x SQLite's time building the query (docs/benchmarks.md). The same
# rule as ``active_q``; its parameters are the status and the day four times (``_rule_params``).
_RULE_SQL = (
    "e.status = %s AND (e.begin_date IS NULL OR e.begin_date <= %s) "  # noqa: S608
    "AND (e.end_date IS NULL OR e.end_date >= %s) "
    f"AND (NOT EXISTS (SELECT 1 FROM {_t} t WHERE t.schoolclass_id = e.school_class_id) "
    f"OR EXISTS (SELECT 1 FROM {_t} t JOIN {_s} s ON s.id = t.academicsession_id "
    "WHERE t.schoolclass_id = e.school_class_id AND s.start_date <= %s AND s.end_date >= %s))"
)
_ROLE_SQL = (
    f"SELECT e.role FROM {_e} e "  # noqa: S608  (no input in the text)
    # No ORDER BY: with it SQLite walks the class's whole index for the rowid order instead of
    # the (user, class, role) unique index: 0.57 against 0.07 ms in a class of 2,000 (a school
    # placement in the launch bench). The caller gets the roles sorted instead.
    f"WHERE e.user_id = %s AND e.school_class_id = %s AND {_RULE_SQL}"
)
_CLASSES_SQL = (
    f"SELECT e.school_class_id FROM {_e} e "  # noqa: S608  (no input in the text)
    "WHERE e.user_id = %s AND e.role IN ({roles}) "
    f"AND {_RULE_SQL}"
)
_MEMBER_SQL = (
    f"SELECT e.user_id FROM {_e} e JOIN {_u} u ON u.id = e.user_id "  # noqa: S608
    "WHERE u.eportal_uuid = %s AND e.school_class_id = %s AND e.role IN ({roles}) "
    f"AND {_RULE_SQL} LIMIT 1"
)


def _rule_params(day: datetime.date | None) -> list[Any]:
    d = connection.ops.adapt_datefield_value(day or today())
    return [EnrollmentStatus.ACTIVE.value, d, d, d, d]


def roles_in_class(user_pk: int, class_pk: int, day: datetime.date | None = None) -> list[str]:
    """The user's active roster roles in a class (usually one; empty when not a member)."""
    with connection.cursor() as cursor:
        cursor.execute(_ROLE_SQL, [user_pk, class_pk, *_rule_params(day)])
        return sorted(str(row[0]) for row in cursor.fetchall())


def class_pks(user_pk: int, *, roles: Iterable[str], day: datetime.date | None = None) -> list[int]:
    """The pks of the classes the user is an active member of in one of ``roles`` (one query;
    the child's home lists their assignments from these)."""
    wanted = list(roles)
    if not wanted:
        return []
    sql = _CLASSES_SQL.format(roles=", ".join(["%s"] * len(wanted)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_pk, *wanted, *_rule_params(day)])
        return sorted({int(row[0]) for row in cursor.fetchall()})


def member_pk(
    user_uuid: uuid.UUID, class_pk: int, *, roles: Iterable[str], day: datetime.date | None = None
) -> int | None:
    """The pk of the user with this e-portal UUID when an active member of the class in one of
    ``roles`` (the AGS score path: one query)."""
    wanted = list(roles)
    key = User._meta.get_field("eportal_uuid").get_db_prep_value(user_uuid, connection)
    sql = _MEMBER_SQL.format(roles=", ".join(["%s"] * len(wanted)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, class_pk, *wanted, *_rule_params(day)])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def role_in_class(user_pk: int, class_pk: int, day: datetime.date | None = None) -> str | None:
    """The user's active roster role in a class, staff roles first; None when not a member."""
    roles = roles_in_class(user_pk, class_pk, day)
    for role in roles:
        if role in STAFF_ROLES:
            return role
    return roles[0] if roles else None
