"""Template filters of the school administration pages."""

from __future__ import annotations

from django import template

from roster import administration

register = template.Library()


@register.filter
def administers_a_school(user: administration.AnyUser) -> bool:
    """Whether the user administers a school (the home page links to ``/school``)."""
    return administration.administered_schools(user).exists()
