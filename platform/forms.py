"""Helpers shared by every page form."""

from __future__ import annotations

from flask import flash

from clubplatform.errors import DomainError


def show_domain_error(form, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields; anything else is flashed."""
    placed = False
    for name, messages in exc.fields.items():
        fld = getattr(form, name, None) if form is not None else None
        if fld is not None and hasattr(fld, "errors"):
            errs = list(fld.errors) if not isinstance(fld.errors, list) else fld.errors
            errs.extend(str(m) for m in messages)
            fld.errors = errs
            placed = True
    if not placed:
        flash(str(exc.message), "error")


def choices(pairs) -> list:
    """Select options from ``(value, label)`` pairs (WTForms 3.3 wants SelectChoice)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
