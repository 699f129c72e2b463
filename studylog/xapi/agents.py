"""Agents' canonical keys: one string per inverse functional identifier, for lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ifi_key(agent: Mapping[str, Any]) -> str:
    """The canonical key of an Agent's (or identified Group's) IFI; "" when it has none.

    ``mbox:mailto:a@b``, ``mbox_sha1sum:<hex>``, ``openid:<uri>``,
    ``account:<homePage>|<name>``. Keys are compared exactly (IRIs are case-sensitive)."""
    if "mbox" in agent:
        return f"mbox:{agent['mbox']}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    account = agent.get("account")
    if isinstance(account, Mapping):
        return f"account:{account.get('homePage', '')}|{account.get('name', '')}"
    return ""
