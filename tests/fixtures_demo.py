"""The demo loaded once per test module (tests/test_demo*.py, test_portal_demo.py,
test_programmes_demo.py): inside a transaction rolled back at the module's end, each test in a
savepoint inside it, because a load takes seconds and the tests only read it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction


@pytest.fixture(scope="module")
def loaded_once(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=StringIO())
        # Fresh statistics for the planner, inside the same transaction (ANALYZE counts the
        # transaction's own inserted rows): after an earlier module's load was rolled back,
        # autovacuum may have analysed the tables as empty, and a query planned on "empty"
        # tables (nested loops over thousands of rows) then took minutes.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield
        transaction.set_rollback(True)
