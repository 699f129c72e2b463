"""OneRoster-shaped roster: orgs, academic sessions (年度), courses, classes, users, enrollments.

Every roster object carries a ``sourced_id`` (the OneRoster identifier). Users carry the
e-portal UUID (UUIDv4), which is the LTI ``sub`` and OneRoster ``userMasterIdentifier``.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .grades import Grade


def school_year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """Return the first and last day of a Japanese school year (年度): April 1 – March 31."""
    return datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)


def school_year_of(day: datetime.date) -> int:
    """Return the 年度 a date falls in (January–March belong to the previous year)."""
    return day.year if day.month >= 4 else day.year - 1


# A name's reading (よみがな), shown as furigana over the name to the youngest children
# (``portal.age``'s kana style): hiragana, katakana, the prolonged sound mark, the middle dot
# and spaces — the readings ``portal.furigana`` accepts.
READING_MAX_LENGTH = 100
validate_reading = RegexValidator(
    r"\A[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u30fb\u3000 ]+\Z",
    _("よみがなは、ひらがなかカタカナで書いてください（漢字・英字・数字・記号は使えません）。"),
    code="invalid_reading",
)
READING_HELP = _("ひらがなかカタカナで（任意）。1〜3年生の画面で、名前にふりがなとして付きます。")


def reading_field() -> models.CharField[str, str]:
    """The optional reading of a name (``validate_reading``)."""
    return models.CharField(
        _("よみがな"),
        max_length=READING_MAX_LENGTH,
        blank=True,
        validators=[validate_reading],
        help_text=READING_HELP,
    )


def reading_of_field() -> models.CharField[str, str]:
    """The name a reading was given for (``HasReading``): stored with the reading, not shown."""
    return models.CharField(_("よみがなを付けた名前"), max_length=200, blank=True, editable=False)


def current_reading(name: str, reading: str, reading_of: str) -> str:
    """``reading`` if it was given for ``name`` as it is now, else "".

    The one rule for a stale reading: a name renamed by any path (a tool's Dynamic
    Registration or tool file, a roster import, the admin, a bulk update) shows no reading
    until one is given for the new name; renamed back, it shows its reading again."""
    return reading if reading and reading_of == name else ""


class HasReading:
    """A model whose name has an optional reading: ``reading_fields`` names its name, reading
    and reading-of fields. Read ``reading`` (``current_reading``), set with ``give_reading``."""

    reading_fields: ClassVar[tuple[str, str, str]]

    @property
    def reading(self) -> str:
        """The reading of the name as it is now ("" if none, or given for another name)."""
        name, kana, of = self.reading_fields
        return current_reading(getattr(self, name), getattr(self, kana), getattr(self, of))

    @property
    def stale_reading(self) -> tuple[str, str] | None:
        """(the earlier name, its reading) if the stored reading was given for another name."""
        _name, kana, of = self.reading_fields
        if not getattr(self, kana) or self.reading:
            return None
        return getattr(self, of), getattr(self, kana)

    def give_reading(self, reading: str) -> list[str]:
        """Set ``reading`` ("" for none) for the name as it is now; return the fields to save
        ([] if the name already has that reading)."""
        name, kana, of = self.reading_fields
        given_for = getattr(self, name) if reading else ""
        if (getattr(self, kana), getattr(self, of)) == (reading, given_for):
            return []
        setattr(self, kana, reading)
        setattr(self, of, given_for)
        return [kana, of]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A reading stored without the name it reads (a new row: a factory, the admin's add
        # form) is the reading of the name it is stored with.
        name, kana, of = self.reading_fields
        if getattr(self, kana) and not getattr(self, of):
            setattr(self, of, getattr(self, name))
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = [*kwargs["update_fields"], of]
        super().save(*args, **kwargs)  # type: ignore[misc]


class OrgType(models.TextChoices):
    DISTRICT = "district", _("教育委員会")
    SCHOOL = "school", _("学校")


class Org(HasReading, models.Model):
    reading_fields = ("name", "name_kana", "name_kana_of")
    sourced_id = models.UUIDField(_("sourcedId"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("名称"), max_length=200)
    name_kana = reading_field()
    name_kana_of = reading_of_field()
    type = models.CharField(_("種別"), max_length=16, choices=OrgType.choices)
    identifier = models.CharField(
        _("学校コード等"), max_length=32, blank=True, help_text=_("文部科学省の学校コードなど")
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        verbose_name = _("組織")
        verbose_name_plural = _("組織")

    def __str__(self) -> str:
        return self.name

    @property
    def district(self) -> Org | None:
        return self if self.type == OrgType.DISTRICT else self.parent


class AcademicSession(models.Model):
    sourced_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("名称"), max_length=100)
    type = models.CharField(_("種別"), max_length=16, default="schoolYear")
    school_year = models.PositiveIntegerField(_("年度"))
    start_date = models.DateField(_("開始日"))
    end_date = models.DateField(_("終了日"))
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="academic_sessions")

    class Meta:
        verbose_name = _("学期・年度")
        verbose_name_plural = _("学期・年度")
        constraints = [
            models.UniqueConstraint(fields=["org", "title"], name="uniq_session_title_per_org"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.type == "schoolYear":
            start, end = school_year_bounds(self.school_year)
            if (self.start_date, self.end_date) != (start, end):
                raise ValidationError(_("年度は4月1日から3月31日までです。"))

    @classmethod
    def school_year_for(cls, org: Org, year: int) -> AcademicSession:
        start, end = school_year_bounds(year)
        session, _created = cls.objects.get_or_create(
            org=org,
            title=f"{year}年度",
            defaults={"school_year": year, "start_date": start, "end_date": end},
        )
        return session


class Course(models.Model):
    sourced_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("名称"), max_length=200)
    course_code = models.CharField(_("コース コード"), max_length=64, blank=True)
    school_year = models.ForeignKey(AcademicSession, on_delete=models.PROTECT)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="courses")
    grades = models.JSONField(_("学年"), default=list, blank=True)

    class Meta:
        verbose_name = _("コース")
        verbose_name_plural = _("コース")

    def __str__(self) -> str:
        return self.title


class ClassType(models.TextChoices):
    HOMEROOM = "homeroom", _("学級（ホームルーム）")
    SCHEDULED = "scheduled", _("授業クラス")


class SchoolClass(HasReading, models.Model):
    """A OneRoster class: a homeroom (学級) or a scheduled subject class."""

    reading_fields = ("title", "title_kana", "title_kana_of")
    sourced_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("名称"), max_length=200)
    title_kana = reading_field()
    title_kana_of = reading_of_field()
    class_code = models.CharField(_("クラス コード"), max_length=64, blank=True)
    class_type = models.CharField(_("種別"), max_length=16, choices=ClassType.choices)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="classes")
    school = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="classes")
    terms = models.ManyToManyField(AcademicSession, related_name="classes")
    grades = models.JSONField(_("学年"), default=list, blank=True)
    subjects = models.JSONField(_("教科"), default=list, blank=True)

    class Meta:
        verbose_name = _("クラス")
        verbose_name_plural = _("クラス")

    def __str__(self) -> str:
        return self.title

    @property
    def grade(self) -> str:
        return self.grades[0] if self.grades else ""


class RosterRole(models.TextChoices):
    STUDENT = "student", _("児童生徒")
    TEACHER = "teacher", _("教員")
    ADMINISTRATOR = "administrator", _("学校管理者")
    DISTRICT_ADMINISTRATOR = "districtAdministrator", _("教育委員会管理者")
    VENDOR = "vendor", _("ツール提供者")


class User(AbstractUser):
    """A person known to the portal. ``eportal_uuid`` is the LTI ``sub``."""

    eportal_uuid = models.UUIDField(
        _("学習eポータルID"), default=uuid.uuid4, unique=True, editable=False
    )
    sourced_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kana_family_name = models.CharField(_("姓（かな）"), max_length=150, blank=True)
    kana_given_name = models.CharField(_("名（かな）"), max_length=150, blank=True)
    role = models.CharField(
        _("役割"), max_length=32, choices=RosterRole.choices, default=RosterRole.STUDENT
    )
    grade = models.CharField(_("学年"), max_length=2, choices=Grade.choices, blank=True)
    org = models.ForeignKey(
        Org,
        verbose_name=_("所属"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    home_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("学級"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")

    @property
    def full_name(self) -> str:
        """Japanese order: family name first, separated by a full-width space."""
        return "\u3000".join(n for n in (self.last_name, self.first_name) if n)

    @property
    def kana_full_name(self) -> str:
        return "\u3000".join(n for n in (self.kana_family_name, self.kana_given_name) if n)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("有効")
    TO_BE_DELETED = "tobedeleted", _("削除予定")


class Enrollment(models.Model):
    sourced_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        _("状態"), max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    date_last_modified = models.DateTimeField(_("最終更新"), auto_now=True, db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrollments")
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.CASCADE, related_name="enrollments"
    )
    school = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("役割"), max_length=32, choices=RosterRole.choices)
    primary = models.BooleanField(_("主担当"), default=False)
    shusseki_no = models.PositiveIntegerField(_("出席番号"), null=True, blank=True)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("所属クラス")
        verbose_name_plural = _("所属クラス")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "school_class", "role"], name="uniq_enrollment"
            ),
        ]
        indexes = [models.Index(fields=["school_class", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.school_class} ({self.role})"
