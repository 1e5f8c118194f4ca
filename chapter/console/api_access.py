"""Who may call a chapter's JSON API: the one guard every chapter API blueprint installs."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, request
from flask_login import current_user

from clubplatform.auth.models import CHAPTER_ROLES


def chapter_staff_only(blp, find: Callable[[dict], object] | None = None,
                       **lookups: Callable[[int], object]) -> None:
    """Admit only the chapter's manager and staff to ``blp`` (others: 403).

    Each ``lookups`` entry names a URL argument and the service function that finds its
    object in the chapter (``task_id=service.get_task``); ``find`` receives all the URL
    arguments (objects found together). Either way another chapter's object answers 404
    before the request body is read. Unauthenticated calls are left to the API's 401.
    """

    @blp.before_request
    def _chapter_staff_only():
        if not current_user.is_authenticated:
            return
        if current_user.role not in CHAPTER_ROLES or current_user.chapter_id is None:
            abort(403)
        args = request.view_args or {}
        for name, get in lookups.items():
            if args.get(name) is not None:
                get(args[name])
        if find is not None and args:
            find(args)
