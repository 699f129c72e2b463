"""Demo roster: one board of education, an elementary and a junior high school, 年度 2026."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import (
    AcademicSession,
    ClassType,
    Course,
    Enrollment,
    Org,
    OrgType,
    RosterRole,
    SchoolClass,
    User,
    school_year_bounds,
    school_year_of,
)

DEMO_PASSWORD = "manabi-demo"  # noqa: S105  (printed for the demo; never used outside it)

FAMILY = [
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
]
GIVEN = [
    ("陽翔", "はると"),
    ("結菜", "ゆいな"),
    ("蓮", "れん"),
    ("陽葵", "ひまり"),
    ("湊", "みなと"),
    ("凛", "りん"),
    ("大和", "やまと"),
    ("紬", "つむぎ"),
    ("悠真", "ゆうま"),
    ("葵", "あおい"),
    ("蒼", "あお"),
    ("芽依", "めい"),
]


@dataclass(frozen=True)
class DemoClass:
    school: str
    code: str
    title: str
    grade: str
    teacher: tuple[str, str, str, str, str]  # username, family, given, kana family, kana given
    students: int


CLASSES = [
    DemoClass(
        "B113210000010",
        "1-1",
        "1年1組",
        "P1",
        ("sakura-t-yamada", "山田", "花子", "やまだ", "はなこ"),
        6,
    ),
    DemoClass(
        "B113210000010",
        "5-2",
        "5年2組",
        "P5",
        ("sakura-t-kato", "加藤", "健一", "かとう", "けんいち"),
        6,
    ),
    DemoClass(
        "C113210000019",
        "1-A",
        "1年A組",
        "J1",
        ("midori-t-suzuki", "鈴木", "誠", "すずき", "まこと"),
        6,
    ),
]
# まなび市 is fictional: 13299 is no municipality of Tokyo (its cities end at 13229); the sixth
# digit is the 地方公共団体コード's check digit, so tools that check it accept the board's
# deployment id B_132993.
BOARD_CODE = "132993"
LEGACY_BOARD_CODE = "13210"  # the board's code before it had six digits
SCHOOLS = {
    "B113210000010": ("まなび市立さくら小学校", "sakura"),
    "C113210000019": ("まなび市立みどり中学校", "midori"),
}


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    label: str


def _user(username: str, **fields: object) -> User:
    user, _ = User.objects.update_or_create(username=username, defaults=fields)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def create_demo_roster(year: int | None = None) -> list[DemoSignIn]:
    """Create (or refresh) the demo roster of a 年度 (the current one unless given) and return
    the sign-ins to print."""
    if year is None:
        year = school_year_of(timezone.localdate())
    # A demo database made before the board had a 6-digit code keeps its board, renamed.
    Org.objects.filter(type=OrgType.DISTRICT, identifier=LEGACY_BOARD_CODE).update(
        identifier=BOARD_CODE
    )
    district, _ = Org.objects.get_or_create(
        identifier=BOARD_CODE, defaults={"name": "まなび市教育委員会", "type": OrgType.DISTRICT}
    )
    schools: dict[str, Org] = {}
    for code, (name, _slug) in SCHOOLS.items():
        school, _ = Org.objects.get_or_create(
            identifier=code, defaults={"name": name, "type": OrgType.SCHOOL, "parent": district}
        )
        schools[code] = school
        AcademicSession.school_year_for(school, year)
    start, _end = school_year_bounds(year)
    sign_ins: list[DemoSignIn] = []
    name_index = 0
    for dc in CLASSES:
        school = schools[dc.school]
        slug = SCHOOLS[dc.school][1]
        session = AcademicSession.school_year_for(school, year)
        course, _ = Course.objects.get_or_create(
            org=school,
            course_code=f"{year}-{dc.code}",
            defaults={
                "title": f"{year}年度 {dc.title}",
                "school_year": session,
                "grades": [dc.grade],
            },
        )
        school_class, _ = SchoolClass.objects.get_or_create(
            school=school,
            class_code=dc.code,
            defaults={
                "title": dc.title,
                "class_type": ClassType.HOMEROOM,
                "course": course,
                "grades": [dc.grade],
            },
        )
        school_class.terms.add(session)
        username, family, given, kana_family, kana_given = dc.teacher
        teacher = _user(
            username,
            last_name=family,
            first_name=given,
            kana_family_name=kana_family,
            kana_given_name=kana_given,
            role=RosterRole.TEACHER,
            org=school,
            email=f"{username}@example.jp",
        )
        Enrollment.objects.get_or_create(
            user=teacher,
            school_class=school_class,
            role=RosterRole.TEACHER,
            defaults={"school": school, "primary": True, "begin_date": start},
        )
        sign_ins.append(DemoSignIn(username, f"{school.name} {dc.title} 担任"))
        for number in range(1, dc.students + 1):
            fam, fam_kana = FAMILY[name_index % len(FAMILY)]
            giv, giv_kana = GIVEN[(name_index * 5) % len(GIVEN)]
            name_index += 1
            student = _user(
                f"{slug}-{dc.code.lower()}-{number:02d}",
                last_name=fam,
                first_name=giv,
                kana_family_name=fam_kana,
                kana_given_name=giv_kana,
                role=RosterRole.STUDENT,
                grade=dc.grade,
                org=school,
                home_class=school_class,
            )
            Enrollment.objects.get_or_create(
                user=student,
                school_class=school_class,
                role=RosterRole.STUDENT,
                defaults={"school": school, "shusseki_no": number, "begin_date": start},
            )
            if number == 1:
                sign_ins.append(DemoSignIn(student.username, f"{school.name} {dc.title} 出席番号1"))
    # Three kinds of administrator (roster.administration): no school or board account is
    # staff or superuser; only the platform operator may use the Django admin.
    admin = _user(
        "sakura-admin",
        last_name="校長",
        first_name="一郎",
        role=RosterRole.ADMINISTRATOR,
        org=schools["B113210000010"],
        is_staff=False,
        is_superuser=False,
    )
    sign_ins.append(DemoSignIn(admin.username, "さくら小学校 学校管理者（学校の管理 /school/）"))
    board_admin = _user(
        "manabi-board-admin",
        last_name="青木",
        first_name="直子",
        kana_family_name="あおき",
        kana_given_name="なおこ",
        role=RosterRole.DISTRICT_ADMINISTRATOR,
        org=district,
        is_staff=False,
        is_superuser=False,
    )
    sign_ins.append(
        DemoSignIn(board_admin.username, "まなび市教育委員会 管理者（2校の管理 /school/）")
    )
    operator = _user(
        "manabi-operator",
        last_name="運用",
        first_name="担当",
        role=RosterRole.DISTRICT_ADMINISTRATOR,  # of no board: administers no school
        org=None,
        is_staff=True,
        is_superuser=True,
    )
    sign_ins.append(DemoSignIn(operator.username, "プラットフォーム運用者（管理画面 /admin/）"))
    vendor = _user(
        "vendor-demo", last_name="まなび教材", first_name="株式会社", role=RosterRole.VENDOR
    )
    sign_ins.append(DemoSignIn(vendor.username, "ツール提供者"))
    return sign_ins
