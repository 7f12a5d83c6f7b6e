"""Production settings and the deployment files.

The production environment is deploy/production.env.example with its CHANGE-ME filled in: the
same file an operator copies. Each check runs in a subprocess, because settings are read
once per process from the environment.
"""

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HOST = "portal.example-county.edu.cn"
# Variables of the test run that must not leak into the production-like subprocess.
LEAKY = (
    "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG", "CI",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)  # fmt: skip


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The example production environment with its secrets filled in (its DATABASE_URL names the
    compose file's db host; override it where a test needs a database that answers)."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    for line in (ROOT / "deploy/production.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    env["SECRET_KEY"] = secrets.token_urlsafe(64)
    env["POSTGRES_PASSWORD"] = "x"
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("CHANGE-ME", "x")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["STATIC_ROOT"] = str(tmp_path / "static")
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


# --- manage.py check --deploy ---


def test_the_example_production_environment_passes_check_deploy(tmp_path):
    # given the example production environment (DEBUG=false, a long random key, proxy TLS, …)
    env = production_env(tmp_path)
    assert "CHANGE-ME" not in "".join(env.values())

    # when Django's deployment checks run, warnings counting as failures
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    # then there is nothing to fix
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_built_in_development_key(tmp_path):
    # given production settings that forgot SECRET_KEY (the built-in development key is used)
    env = production_env(tmp_path)
    del env["SECRET_KEY"]

    # when checked, then the check fails and names the key
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_check_deploy_refuses_debug(tmp_path):
    result = manage(production_env(tmp_path, DEBUG="true"), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def effective_settings(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.base"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_debug_off_the_defaults_are_the_secure_ones(tmp_path):
    # given only DEBUG=false and a key: none of the security switches set
    env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(64))

    # when settings load
    s = effective_settings(
        env,
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_HTTPONLY", "SESSION_SAVE_EVERY_REQUEST", "SESSION_COOKIE_AGE", "X_FRAME_OPTIONS",
        "SECURE_PROXY_SSL_HEADER", "ALLOWED_HOSTS",
    )  # fmt: skip

    # then cookies are HTTPS-only, HTTP redirects, HSTS for a year, sessions time out
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_SAVE_EVERY_REQUEST"] is True
    assert 0 < s["SESSION_COOKIE_AGE"] <= 3600
    assert s["X_FRAME_OPTIONS"] == "DENY"
    # X-Forwarded-Proto is trusted only when the operator says a proxy sets it
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    assert "*" not in s["ALLOWED_HOSTS"]


# --- gunicorn with the production settings ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": HOST, **headers})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """The web container's command, on loopback, with the example production environment and the
    PostgreSQL of the test run (``make test`` exports its DATABASE_URL; nothing is written)."""
    if not os.environ.get("DATABASE_URL"):
        pytest.fail("DATABASE_URL is not set: run the tests through `make test` or scripts/services.sh")
    tmp = tmp_path_factory.mktemp("prod")
    port = free_port()
    env = production_env(tmp, DATABASE_URL=os.environ["DATABASE_URL"], PORT=str(port), WEB_CONCURRENCY="1")
    collected = manage(env, "collectstatic", "--no-input")
    assert collected.returncode == 0, collected.stderr
    cmd = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    log = (tmp / "gunicorn.log").open("w")
    proc = subprocess.Popen([*cmd, "config.wsgi"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get(port, "/healthz")
                break
            except OSError:
                assert proc.poll() is None, (tmp / "gunicorn.log").read_text()
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not answer: " + (tmp / "gunicorn.log").read_text())
        yield port, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_the_health_check_script_passes_against_gunicorn(gunicorn):
    _, env = gunicorn
    result = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    # and it fails when nothing listens there
    dead = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env={**env, "PORT": str(free_port())}, timeout=30
    )
    assert dead.returncode == 1


def test_plain_http_is_redirected_to_https_except_the_health_check(gunicorn):
    port, _ = gunicorn
    response = get(port, "/login/")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/login/"
    assert get(port, "/healthz").status == 200


def test_an_unknown_host_is_refused(gunicorn):
    port, _ = gunicorn
    assert get(port, "/healthz", Host="evil.example.com").status == 400


def test_behind_the_tls_proxy_pages_carry_the_security_headers(gunicorn):
    # given a request that came through the bureau's TLS proxy
    port, _ = gunicorn
    response = get(port, "/login/", **{"X-Forwarded-Proto": "https", "Accept-Language": "zh-CN"})

    # then the login page is served with HSTS, no framing, and HTTPS-only cookies
    assert response.status == 200, response.body[:500]
    assert "max-age=31536000" in response.getheader("Strict-Transport-Security")
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    cookie = response.getheader("Set-Cookie")
    assert "csrftoken=" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert "登录" in response.body.decode()


SESSION_FOR_A_USER = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("docs-reader", password="x-docs-reader-1")
session = SessionStore()
session.update({"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
                "_auth_user_backend": "alliance.backends.RoleModelBackend"})
session.create()
print(session.session_key)
"""


def test_the_api_docs_assets_are_served_by_the_app(gunicorn):
    # given the docs page through the proxy: for signed-in users only
    port, env = gunicorn
    assert get(port, "/api/docs/", **{"X-Forwarded-Proto": "https"}).status == 302
    assert manage(env, "migrate", "--no-input").returncode == 0
    made = manage(env, "shell", "-c", SESSION_FOR_A_USER)
    assert made.returncode == 0, made.stderr
    cookie = f"sessionid={made.stdout.strip().splitlines()[-1]}"
    page = get(port, "/api/docs/", **{"X-Forwarded-Proto": "https", "Cookie": cookie})
    assert page.status == 200, page.getheader("Location")
    html = page.body.decode()

    # then every script and stylesheet is a local, hashed static file that the app serves
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:1000]
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = get(port, asset, **{"X-Forwarded-Proto": "https"})
        assert served.status == 200, asset
        assert "max-age=315360000" in (served.getheader("Cache-Control") or ""), asset


# Hosts a browser would fetch assets from; nothing collected may name one.
REMOTE_ASSET_HOSTS = re.compile(r"cdn\.|unpkg\.com|jsdelivr|cdnjs|fonts\.googleapis\.com|fonts\.gstatic\.com")


def test_no_collected_static_file_loads_anything_from_the_internet(gunicorn):
    # given the static files collected as the web container collects them
    _port, env = gunicorn
    root = Path(env["STATIC_ROOT"])
    collected = [p for p in root.rglob("*") if p.is_file() and p.suffix in {".js", ".css", ".html", ".map"}]
    assert any("swagger-ui" in p.name for p in collected), sorted(p.name for p in collected)[:20]

    # then none names a CDN or a font service (ReDoc, which loads its logo from one, is not
    # collected: the docs are Swagger UI)
    remote = [str(p.relative_to(root)) for p in collected if REMOTE_ASSET_HOSTS.search(p.read_text(errors="ignore"))]
    assert remote == []
    assert not (root / "drf_spectacular_sidecar" / "redoc").exists()


# --- The deployment files ---


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services_with_health_checks_and_volumes():
    # given the compose file
    c = compose()
    services = c["services"]

    # then every piece of the portal is there
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    # health checks: PostgreSQL, Redis, the web app's /healthz
    assert "pg_isready" in str(services["db"]["healthcheck"]["test"])
    assert "redis-cli" in str(services["redis"]["healthcheck"]["test"])
    assert "deploy/healthcheck.py" in str(services["web"]["healthcheck"]["test"])
    # data outlives the containers
    assert {"db-data", "media"} <= set(c["volumes"])
    assert "db-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("web", "worker", "beat", "migrate"):
        assert "media:/app/media" in services[name]["volumes"], name
        assert services[name]["env_file"] == "deploy/production.env", name
    # the schema is migrated before web, worker and beat start
    assert services["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    # gunicorn serves; beat reads its schedule from the database (editable in the admin)
    assert services["web"]["command"][0] == "gunicorn"
    assert "config.wsgi" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert beat[beat.index("-S") + 1] == "django_celery_beat.schedulers:DatabaseScheduler"
    # the web port is reachable only through the reverse proxy on the host
    assert all(p.startswith("127.0.0.1:") for p in services["web"]["ports"])


def test_the_compose_env_file_is_the_example_copied_and_never_committed():
    assert "production.env" in (ROOT / "deploy/.gitignore").read_text().split()
    example = (ROOT / "deploy/production.env.example").read_text()
    for key in ("DEBUG=false", "SECRET_KEY=", "ALLOWED_HOSTS=", "DATABASE_URL=postgres://", "REDIS_URL=redis://"):
        assert key in example, key
    assert "POSTGRES_PASSWORD=" in example


def test_the_dockerfile_builds_a_non_root_python_311_image_with_collected_static_files():
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text().splitlines() if ln.strip()]
    instructions = [ln for ln in lines if not ln.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    assert any(ln.startswith("RUN pip install -r requirements.txt") for ln in instructions)
    run_text = "\n".join(instructions)
    assert "collectstatic --no-input" in run_text
    users = [ln.split()[1] for ln in instructions if ln.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-1].startswith("CMD") and "gunicorn" in instructions[-1]
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".venv", ".git", "db.sqlite3", "deploy/production.env", ".env"):
        assert path in ignored, path


def test_gunicorn_accepts_its_config():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "--check-config", "config.wsgi"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "x" * 60},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
