"""Readings (よみがな) of names the youngest children read: a tool's name (its vendor's, in the
vendor console), a school's name and its classes' titles (the school administration).

The portal shows them as furigana in the kana style (``portal_age.with_reading``). A reading is
hiragana or katakana (``roster.models.validate_reading``); the forms refuse anything else with
the validator's message and the actions check again, so a refused reading changes nothing.
Each change is recorded in the audit trail of its school (a tool's: of no organisation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from audit import trail
from dbtools.writelock import serialized_writes
from lti_platform import vendor_tools
from roster import administration
from roster.models import (
    READING_HELP,
    READING_MAX_LENGTH,
    HasReading,
    Org,
    SchoolClass,
    User,
    validate_reading,
)
from tools_registry.models import Registration, Tool

TOO_LONG = _("よみがなは%(limit_value)d文字以内で書いてください（いまは%(show_value)d文字です）。")


STALE = _(
    "「%(name)s」という名前だったときのよみがな「%(reading)s」は、名前が変わったので付いて"
    "いません。いまの名前にも合っていれば、もう一度書いてください。"
)


def reading_form_field(label: Any, named: HasReading | None = None) -> forms.CharField:
    """An optional reading's form field: kana only, at most ``READING_MAX_LENGTH``; for
    ``named``, its name's current reading, and a word on a reading given for an earlier name."""
    help_text: Any = READING_HELP
    stale = named.stale_reading if named is not None else None
    if stale is not None:
        help_text = format_lazy(
            "{} {}", READING_HELP, STALE % {"name": stale[0], "reading": stale[1]}
        )
    return forms.CharField(
        label=label,
        required=False,
        max_length=READING_MAX_LENGTH,
        validators=[validate_reading],
        error_messages={"max_length": TOO_LONG},
        help_text=help_text,
        initial=named.reading if named is not None else "",
    )


def _check(readings: list[str]) -> None:
    for reading in readings:
        if reading:
            validate_reading(reading)
            if len(reading) > READING_MAX_LENGTH:
                raise forms.ValidationError(
                    TOO_LONG,
                    code="max_length",
                    params={"limit_value": READING_MAX_LENGTH, "show_value": len(reading)},
                )


def give_tool_reading(*, acting_user: User, tool: Tool, reading: str) -> bool:
    """Set the reading of ``tool``'s name (the caller has checked the tool is the acting
    vendor's: ``lti_platform.vendor_tools.vendor_tool``). Return whether it changed.

    Raises ``ValidationError`` for a reading that is not kana; nothing is stored then."""
    _check([reading])
    with serialized_writes(), transaction.atomic():
        current = Tool.objects.select_for_update().get(pk=tool.pk)
        before = current.name_kana
        fields = current.give_reading(reading)
        if not fields:
            return False
        current.save(update_fields=fields)
        trail.record(
            actor=acting_user,
            action="tool.reading",
            target=current,
            org=None,
            before={"name_kana": before},
            after={"name_kana": reading},
        )
    tool.give_reading(reading)
    return True


def save_vendor_tool(
    *,
    acting_user: User,
    values: vendor_tools.ToolValues,
    tool: Tool | None,
    reading: str,
) -> Registration:
    """The vendor console's save: the tool (``lti_platform.vendor_tools.save_vendor_tool``) and
    its name's reading in one transaction, so that both are stored or neither is.

    Raises what those two raise (``NotVendorTool``, ``ToolValuesInvalid``, ``ValidationError``
    for a reading that is not kana); nothing is stored then."""
    _check([reading])
    with serialized_writes(), transaction.atomic():
        registration = vendor_tools.save_vendor_tool(
            acting_user=acting_user, values=values, tool=tool
        )
        give_tool_reading(acting_user=acting_user, tool=registration.tool, reading=reading)
    return registration


def give_school_readings(
    *, acting_user: User, school: Org, school_reading: str, class_readings: Mapping[int, str]
) -> int:
    """Set the readings of an administered school's name and of its classes' titles
    (``class_readings``: class pk → reading; classes of that school only). Return how many
    names changed.

    Raises ``administration.NotAdministered`` (not the acting user's school, a class of
    another school) or ``ValidationError`` (a reading that is not kana); nothing is stored
    then."""
    if not administration.administers(acting_user, school):
        raise administration.NotAdministered
    _check([school_reading, *class_readings.values()])
    changed = 0
    with serialized_writes(), transaction.atomic():
        current = Org.objects.select_for_update().get(pk=school.pk)
        classes = list(
            SchoolClass.objects.select_for_update().filter(school=current, pk__in=class_readings)
        )
        if len(classes) != len(class_readings):
            raise administration.NotAdministered
        named: list[tuple[Org | SchoolClass, str, str]] = [(current, "name_kana", school_reading)]
        named += [(k, "title_kana", class_readings[k.pk]) for k in classes]
        for target, field, reading in named:
            before = getattr(target, field)
            fields = target.give_reading(reading)
            if not fields:
                continue
            target.save(update_fields=fields)
            trail.record(
                actor=acting_user,
                action="org.reading" if isinstance(target, Org) else "class.reading",
                target=target,
                org=current,
                before={field: before},
                after={field: reading},
            )
            changed += 1
    return changed
