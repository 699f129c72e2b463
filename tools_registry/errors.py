"""Errors of the tools registry: one base, each subclass for one kind of refusal."""

from __future__ import annotations


class RegistryError(Exception):
    """Base of the registry's errors; the message names the field or the key at fault."""


class ToolSpecError(RegistryError, ValueError):
    """A tool spec is invalid; the message names the field."""


class ToolKeyError(RegistryError):
    """The tool's key cannot be found, fetched or used (JWKS URL, registered PEM)."""
