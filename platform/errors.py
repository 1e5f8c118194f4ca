"""Domain errors raised by services, and how the edges show them.

Services raise these with a translatable message (lazy_gettext); pages flash or
re-render them, the API turns them into ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the request; nothing was written."""

    code = "invalid"
    status = 422

    def __init__(self, message: Any, fields: dict[str, list[Any]] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}

    def field_messages(self) -> dict[str, list[str]]:
        return {k: [str(m) for m in v] for k, v in self.fields.items()}


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


def field_error(field: str, message: Any, cls: type[DomainError] = ValidationFailed) -> DomainError:
    """Shortcut: an error about one field, the message also used as the summary."""
    return cls(message, {field: [message]})
