"""Who may sign in to a board's OIDC client: the one owner of the rule.

A person may when their account is active, they are not a tool vendor, and they belong to the
client's board: to one of the chosen schools (any school of the board when none is chosen) —
or, for a client open to the whole board, to the board itself (its staff) — and, when classes
are chosen, they are an active member of one of them (``roster.membership``). Nobody else:
not another board's people, not platform operators, not a vendor.
"""

from __future__ import annotations

from dataclasses import dataclass

from roster import membership
from roster.models import Org, OrgType, RosterRole, User

from .models import OidcClient


@dataclass(frozen=True)
class Refusal:
    """Why a person may not sign in; ``description`` is for the tool's developer and names no
    one (it travels as ``error_description``, RFC 6749 §4.1.2.1: ASCII only)."""

    reason: str
    description: str


NOT_OF_BOARD = Refusal("not_of_board", "the user does not belong to the board of this client")
SCHOOL_NOT_CHOSEN = Refusal(
    "school_not_chosen", "the board has not opened this client to the user's school"
)
CLASS_NOT_CHOSEN = Refusal(
    "class_not_chosen", "the user is not in a class the board has opened this client to"
)


def refusal(user: User, oidc_client: OidcClient) -> Refusal | None:
    """None when ``user`` may sign in to ``oidc_client``, else why not (three queries at most)."""
    if not user.is_active or user.role == RosterRole.VENDOR or user.org_id is None:
        return NOT_OF_BOARD
    org = Org.objects.filter(pk=user.org_id).values_list("type", "parent_id").first()
    if org is None:
        return NOT_OF_BOARD
    org_type, parent_id = org
    board_id = oidc_client.board_id
    school_ids = set(oidc_client.schools.values_list("pk", flat=True))
    class_ids = set(oidc_client.classes.values_list("pk", flat=True))
    if user.org_id == board_id and org_type == OrgType.DISTRICT:
        return None if not school_ids and not class_ids else SCHOOL_NOT_CHOSEN
    if org_type != OrgType.SCHOOL or parent_id != board_id:
        return NOT_OF_BOARD
    if school_ids and user.org_id not in school_ids:
        return SCHOOL_NOT_CHOSEN
    if class_ids:
        enrolled = membership.active_enrollments().filter(
            user_id=user.pk, school_class_id__in=class_ids
        )
        if not enrolled.exists():
            return CLASS_NOT_CHOSEN
    return None
