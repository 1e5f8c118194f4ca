"""JSON API: the care list and its outcomes."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from chapter.care import schemas, service
from chapter.console.api_access import chapter_staff_only
from clubplatform import dates
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.extensions import db

blp = Blueprint("api_care", __name__, url_prefix="/chapter/care",
                description="The daily care list (chapter).")


chapter_staff_only(blp, task_id=service.get_task)


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(schemas.CareTaskQueryArgsSchema, location="query")
    @blp.response(200, schemas.CareTaskSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's care tasks (open ones by default), oldest plan first."""
        return service.task_query(**args)

    @blp.arguments(schemas.CareTaskCreateSchema)
    @blp.response(201, schemas.CareTaskSchema)
    def post(self, data):
        """Put an ad-hoc item on the care list (idempotent by ``source_key``)."""
        task = service.add_task(chapter_id=current_user.chapter_id, **data)
        db.session.commit()
        return task


@blp.route("/today")
class Today(MethodView):
    @blp.response(200, schemas.CareTaskSchema(many=True))
    def get(self):
        """The caller's list for today, with items rolled over from earlier days."""
        who = None if current_user.role == CHAPTER_MANAGER else current_user.id
        return db.session.execute(
            service.task_query(assignee_id=who, until=dates.today()).limit(500)).scalars().all()


@blp.route("/tasks/<int:task_id>")
class TaskById(MethodView):
    @blp.response(200, schemas.CareTaskSchema)
    def get(self, task_id):
        """Get a care task."""
        return service.get_task(task_id)

    @blp.arguments(schemas.CareTaskUpdateSchema)
    @blp.response(200, schemas.CareTaskSchema)
    def patch(self, data, task_id):
        """Reschedule (``scheduled_on``) or reassign (``assignee_id``) an open task."""
        task = service.get_task(task_id)
        if "scheduled_on" in data:
            service.reschedule(task, data["scheduled_on"])
        if "assignee_id" in data:
            service.reassign(task, data["assignee_id"])
        db.session.commit()
        return task


@blp.route("/tasks/<int:task_id>/outcome")
class TaskOutcome(MethodView):
    @blp.arguments(schemas.CareOutcomeSchema)
    @blp.response(200, schemas.CareTaskSchema)
    def post(self, data, task_id):
        """Record the outcome of the contact (and satisfaction 1–5 on a 3D/7D follow-up)."""
        task = service.record_outcome(service.get_task(task_id), data["outcome"],
                                      note=data["note"], actor=current_user,
                                      score=data["score"], comment=data["comment"])
        db.session.commit()
        return task
