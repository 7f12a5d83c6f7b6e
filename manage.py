#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        from django.conf import settings

        # With DATABASE_URL unset the portal uses the demo cluster: say how to start it rather
        # than print a traceback about a refused connection.
        if not getattr(settings, "DATABASE_URL_IS_DEMO", False) or "connection to server" not in str(exc):
            raise
        sys.exit(
            f"The demo database ({settings.DEMO_DATABASE_URL}) is not reachable: "
            "start it with `make demo` (or scripts/demo-db.sh start), or set DATABASE_URL."
        )


if __name__ == "__main__":
    main()
