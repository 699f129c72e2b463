"""Errors of the xAPI layer, each carrying its HTTP status.

Pure Python like the rest of ``studylog.xapi``: the LRS endpoint renders these (the reason as
the body a vendor reads); nothing here knows about HTTP frameworks.
"""

from __future__ import annotations


class XapiError(Exception):
    """Base of every error the xAPI layer raises; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StatementInvalid(XapiError):
    """A statement breaks a rule of the xAPI Data part: the LRS answers 400 Bad Request.

    ``reason`` is an English sentence for the vendor's developer that starts with the JSON path
    (``"actor.account.homePage: must be an IRL (absolute URL), got 'foo'"``); ``path`` is that
    path alone (``""`` for the statement itself), for logs and tests.
    """

    status = 400

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(reason)
        self.path = path

    def __repr__(self) -> str:
        return f"StatementInvalid({self.reason!r}, path={self.path!r})"
