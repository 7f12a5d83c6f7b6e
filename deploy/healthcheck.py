"""Exit 0 when the web process answers /healthz, 1 otherwise (docker-compose's health check).

Django refuses requests whose Host is not in ALLOWED_HOSTS, so the check names the first
allowed host instead of 127.0.0.1. It asks over plain HTTP from inside the container: /healthz
is exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT).
"""

import os
import sys
import urllib.request


def main() -> int:
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",") if h.strip()]
    host = next((h for h in hosts if h != "*"), "localhost")
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"healthz failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
