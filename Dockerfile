# The production image of suqu: gunicorn (default command), and the same image runs the Celery
# worker and beat (see docker-compose.yml). Build: docker build -t suqu .

# --- Front-end libraries: Node and npm exist only in this stage ----------------------------------
FROM node:24-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# --- The source tree, without what a developer's checkout may hold -------------------------------
# Removed here rather than trusted to a .dockerignore: a local .env (secrets), .local (the embedded
# PostgreSQL's data), a host virtualenv or node_modules must never end up in the image.
FROM python:3.12-slim AS source
WORKDIR /src
COPY . .
RUN rm -rf .git .venv node_modules .local .env staticfiles media build ./*.egg-info \
        .pytest_cache .ruff_cache \
    && find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- The image -----------------------------------------------------------------------------------
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 suqu \
    && useradd --system --uid 10001 --gid suqu --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin suqu

# The pinned dependencies first, so a code change does not reinstall them. pyproject.toml packages
# nothing (packages = []): `pip install .` installs only its dependencies.
WORKDIR /tmp/deps
COPY pyproject.toml ./
RUN pip install . && rm -rf /tmp/deps

WORKDIR /app
COPY --from=source /src/ ./
# Only the dist folders that VENDOR_FILES names (of which collectstatic takes the files the pages
# use); kept after collectstatic so that `manage.py check` finds them.
COPY --from=assets /build/node_modules/htmx.org/dist node_modules/htmx.org/dist
COPY --from=assets /build/node_modules/bootstrap/dist node_modules/bootstrap/dist
COPY --from=assets /build/node_modules/echarts/dist node_modules/echarts/dist
COPY --from=assets /build/node_modules/leaflet/dist node_modules/leaflet/dist

# Static files are collected into the image (/app/staticfiles, served by WhiteNoise). The settings
# need a secret key and well-formed URLs to load; nothing connects to them, and none of these
# values stays in the image.
RUN DEBUG=0 \
    SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput

# Uploaded files (media volume) and the beat schedule (beat volume) are the only places the app
# writes; a fresh named volume takes this ownership from the image.
RUN mkdir -p /app/media /var/lib/suqu \
    && chown suqu:suqu /app/media /var/lib/suqu

USER suqu:suqu
EXPOSE 8000
CMD ["gunicorn", "suqu.wsgi:application", "-c", "python:suqu.gunicorn_conf", "--bind", "0.0.0.0:8000"]
