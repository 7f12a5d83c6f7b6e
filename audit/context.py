"""Who is acting: the request's user and address, or the command or task, handed to the
capture trigger as the database session setting ``audit.context`` (JSON).

The setting is session-level. A command or task sets it once at its start, outside any
transaction, so no rolled-back savepoint can take it away, and again on every connection it
opens (``connection_created``). A request sets it lazily, before each of its write statements
(an ``execute_wrapper``): the user is known only once the view has authenticated it (DRF's
token and session authentication run in the view), a request that writes nothing costs
nothing, and a savepoint rolled back (``get_or_create``) cannot take away the one the next
write needs. Either way it is cleared when the
request, command or task ends, so a reused connection never lends one user to the next.
It is sent on the raw psycopg connection: it is not one of the request's queries (the
query-count tests count those).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import sys
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

SETTING = "audit.context"
_current: contextvars.ContextVar[dict | None] = contextvars.ContextVar("audit_context", default=None)


def current() -> dict:
    return _current.get() or {}


def for_user(user: Any, *, addr: str | None = None, source: str = "") -> dict:
    ctx: dict[str, Any] = {"addr": addr, "source": source[:300]}
    if user is not None and getattr(user, "is_authenticated", False):
        from alliance.access import role_value

        ctx.update(
            user_id=user.pk,
            username=user.get_username(),
            role=role_value(user),
            county_id=user.county_id,
            school_id=user.school_id,
        )
    return ctx


def for_request(request: Any) -> dict:
    from django.conf import settings

    addr = settings.AXES_CLIENT_IP_CALLABLE(request) if hasattr(settings, "AXES_CLIENT_IP_CALLABLE") else None
    addr = addr or request.META.get("REMOTE_ADDR")
    return for_user(getattr(request, "user", None), addr=addr, source=f"{request.method} {request.get_full_path()}")


def _send(connection: Any, ctx: dict | str | None) -> None:
    if connection.connection is None:
        return
    value = ctx if isinstance(ctx, str) else (json.dumps(ctx, default=str) if ctx else "")
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])


def _apply(ctx: dict | None) -> None:
    for connection in connections.all(initialized_only=True):
        _send(connection, ctx)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    ctx = _current.get()
    if ctx:
        _send(connection, ctx)


connection_created.connect(_on_connection_created, dispatch_uid="audit.context")


@contextlib.contextmanager
def acting(ctx: dict) -> Iterator[dict]:
    """Runs the block as ``ctx``; the previous context comes back afterwards."""
    token = _current.set(ctx)
    _apply(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
        with contextlib.suppress(Exception):  # a broken connection has no session to clear
            _apply(_current.get())


_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH", "MERGE", "COPY")


class RequestWrites:
    """``connection.execute_wrapper`` for a request: sends the request's context before each
    write statement (see the module's docstring; a task run eagerly inside the request writes
    as the request, which is what happened)."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.touched = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: dict) -> Any:
        if sql[:12].lstrip()[:6].upper().startswith(_WRITES):
            _send(context["connection"], for_request(self.request))
            self.touched = True
        return execute(sql, params, many, context)


@contextlib.contextmanager
def request_writes(request: Any) -> Iterator[None]:
    from django.db import connection

    wrapper = RequestWrites(request)
    with connection.execute_wrapper(wrapper):
        try:
            yield
        finally:
            if wrapper.touched:
                with contextlib.suppress(Exception):
                    _send(connection, _current.get())


def install_command_context() -> None:
    """Every management command runs as "manage.py <name> <args>" (no user): wraps
    ``BaseCommand.execute`` once, so no command needs to remember it."""
    from django.core.management.base import BaseCommand

    if getattr(BaseCommand.execute, "_audit_wrapped", False):
        return
    original = BaseCommand.execute

    def execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
        if _current.get() is not None:  # called from a request or another command: keep its context
            return original(self, *args, **options)
        name = self.__module__.rsplit(".", 1)[-1]
        argv = " ".join(sys.argv[2:]) if len(sys.argv) > 1 and sys.argv[1] == name else ""
        with acting({"source": f"manage.py {name} {argv}".strip()[:300]}):
            return original(self, *args, **options)

    execute._audit_wrapped = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute  # type: ignore[method-assign]
