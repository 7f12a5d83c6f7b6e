"""Receivers: sign-ins (successful or not) and exports become audit events; a Celery task acts
as itself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed

from alliance.signals import exported

from . import context


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .services import record_event

    record_event("login", request=request, user=user, model="alliance.user", object_id=user.pk)


def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    from .services import record_event

    # Never the password: credentials are cleansed by Django, and only the name is kept.
    username = str(credentials.get("username", ""))[:150]
    record_event("login_failed", request=request, model="alliance.user", detail={"username": username})


def _exported(
    sender: Any,
    request: Any = None,
    user: Any = None,
    model: str = "",
    object_id: Any = "",
    detail: dict | None = None,
    **kwargs: Any,
) -> None:
    from .services import record_event

    record_event("export", request=request, user=user, model=model, object_id=object_id, detail=detail)


_tasks: dict[str, Any] = {}


def _task_started(sender: Any = None, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    manager = context.acting({"source": f"task {getattr(task, 'name', sender)} {task_id}".strip()[:300]})
    manager.__enter__()
    _tasks[task_id] = manager


def _task_ended(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    manager = _tasks.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="audit.login")
    user_login_failed.connect(_login_failed, dispatch_uid="audit.login_failed")
    exported.connect(_exported, dispatch_uid="audit.exported")
    try:
        from celery.signals import task_postrun, task_prerun
    except ImportError:  # pragma: no cover - celery is a requirement
        return
    task_prerun.connect(_task_started, dispatch_uid="audit.task_started", weak=False)
    task_postrun.connect(_task_ended, dispatch_uid="audit.task_ended", weak=False)
