# consentbot as a container: docs/operations.md explains the image and compose.yaml.
#
# builder: build consentbot's wheel and install it with its dependencies into a venv.
# runtime: python:3.11-slim with only that venv, the study content and the translations;
#          no compilers, no pip cache, runs as uid 10001.

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Compilers only here, for a dependency without a wheel for this platform (never copied on).
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# The .pyc files pip compiles stay: uid 10001 cannot write them later, and start-up needs them.
RUN python -m venv /opt/consentbot \
    && /opt/consentbot/bin/pip wheel --no-deps --wheel-dir /build/dist . \
    && /opt/consentbot/bin/pip install /build/dist/consentbot-*.whl \
    && /opt/consentbot/bin/pip uninstall -y pip


FROM python:3.11-slim AS runtime

ENV PATH=/opt/consentbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONSENTBOT_HOST=0.0.0.0 \
    CONSENTBOT_PORT=8080 \
    CONSENTBOT_DATA_DIR=/var/lib/consentbot \
    CONSENTBOT_CONTENT_DIR=/app/content \
    CONSENTBOT_LOCALES_DIR=/app/locales \
    CONSENTBOT_LOG_FORMAT=json

RUN groupadd --system --gid 10001 consentbot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /var/lib/consentbot --shell /usr/sbin/nologin consentbot \
    && mkdir -p /var/lib/consentbot \
    && chown 10001:10001 /var/lib/consentbot

COPY --from=builder /opt/consentbot /opt/consentbot
COPY content /app/content
COPY locales /app/locales

WORKDIR /app
USER 10001:10001
EXPOSE 8080
VOLUME ["/var/lib/consentbot"]

# Liveness only (no database): /readyz is for the load balancer or orchestrator.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CONSENTBOT_PORT', '8080'), timeout=4)"]

CMD ["consentbot", "serve"]
