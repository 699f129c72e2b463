"""``multipart/mixed`` bodies of the Statement resource (xAPI 1.0.3 Communication §1.5.2).

A request with attachments is RFC 2046 ``multipart/mixed``: the first part is the statement
(or the array of statements), ``application/json``; every further part is the raw data of an
attachment, with ``X-Experience-API-Hash`` (the attachment's ``sha2``) and
``Content-Transfer-Encoding: binary`` in its headers. The LRS matches parts to attachments by
the hash and by nothing else. Responses with ``attachments=true`` use the same format.

Pure Python: the LRS views pass the body and the ``Content-Type`` header.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import XapiError

HASH_HEADER = "x-experience-api-hash"
_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


class MultipartInvalid(XapiError):
    status = 400


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # names in lower case
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def boundary_of(content_type: str) -> str:
    """The ``boundary`` parameter of a ``multipart/mixed`` Content-Type header."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if value and len(value) <= 70 and value.isascii():
                return value
    raise MultipartInvalid(
        "a multipart/mixed Content-Type needs a boundary parameter (1 to 70 ASCII characters)"
    )


def _headers(block: bytes, index: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    try:
        text = block.decode("ascii")
    except UnicodeDecodeError as exc:
        raise MultipartInvalid(f"part {index}: its headers are not ASCII") from exc
    for line in text.split("\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MultipartInvalid(f"part {index}: the header line {line!r} has no name")
        headers[name.strip().lower()] = value.strip()
    return headers


def _next_delimiter(data: bytes, delimiter: bytes) -> int:
    """Where the next delimiter line starts: CRLF, the delimiter, then ``--`` or (optional
    white space and) CRLF; a line that merely starts like one is content."""
    marker = b"\r\n" + delimiter
    at = data.find(marker)
    while at >= 0:
        after = at + len(marker)
        if data.startswith(b"--", after):
            return at
        while data[after : after + 1] in (b" ", b"\t"):
            after += 1
        if data.startswith(b"\r\n", after):
            return at
        at = data.find(marker, at + 1)
    raise MultipartInvalid("the body does not end with the closing delimiter")


def parse(body: bytes, content_type: str) -> list[Part]:
    """The parts of a ``multipart/mixed`` body (CRLF line breaks, as RFC 2046 requires)."""
    delimiter = b"--" + boundary_of(content_type).encode("ascii")
    if body.startswith(delimiter):
        rest = body[len(delimiter) :]
    else:
        at = body.find(b"\r\n" + delimiter)
        if at < 0:
            raise MultipartInvalid("the body has no part delimited by the Content-Type boundary")
        rest = body[at + 2 + len(delimiter) :]
    parts: list[Part] = []
    while True:
        if rest.startswith(b"--"):
            return parts
        line_end = rest.find(b"\r\n")
        if line_end < 0 or rest[:line_end].strip(b" \t"):
            raise MultipartInvalid("a part delimiter is not followed by a line break")
        rest = rest[line_end + 2 :]
        end = _next_delimiter(rest, delimiter)
        chunk, rest = rest[:end], rest[end + 2 + len(delimiter) :]
        if chunk.startswith(b"\r\n"):
            head, content = b"", chunk[2:]
        else:
            split = chunk.find(b"\r\n\r\n")
            if split < 0:
                raise MultipartInvalid(f"part {len(parts)}: no blank line after its headers")
            head, content = chunk[:split], chunk[split + 4 :]
        parts.append(Part(_headers(head, len(parts)), content))


def sha2_matches(content: bytes, sha2: str) -> bool:
    """Whether ``sha2`` (hex SHA-256, -384 or -512) is the hash of ``content``."""
    make = _HASHES.get(len(sha2))
    return make is not None and secrets.compare_digest(make(content).hexdigest(), sha2.lower())


def build(first: bytes, attachments: Sequence[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/mixed`` body: ``first`` (JSON) and each (sha2, content type, content);
    returns the body and its Content-Type header."""
    boundary = "xapi-" + secrets.token_hex(16)
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first]
    for sha2, content_type, content in attachments:
        out.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
