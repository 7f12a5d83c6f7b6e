# The portal's one image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.base \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media

WORKDIR /app
RUN useradd --create-home --uid 1000 --user-group portal

# The PDF reports (reports/pdf.py): WeasyPrint lays out text with Debian's pango and harfbuzz, in
# Noto Sans CJK; it loads them at run time (the same packages as scripts/lib.sh's PDF_PACKAGES).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Requirements first, so a code change does not reinstall them (psycopg2-binary needs no compiler).
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are part of the image: collected and compressed once, at build, with a throwaway
# key (settings need one to import; nothing is signed). The media folder belongs to the portal
# user so the named volume mounted there is writable.
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --no-input \
    && mkdir -p /app/media \
    && chown portal:portal /app/media

USER portal
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "config.wsgi"]
