# E-Akte Bau: slim, non-root image; dependencies from the hashed lock file.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmagic1 curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/eakte
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY eakte ./eakte
COPY workflows ./workflows
COPY storage ./storage
RUN /opt/venv/bin/pip install --no-deps . \
 && useradd --system --uid 10001 --home-dir /var/lib/eakte --create-home eakte
ENV PATH=/opt/venv/bin:$PATH \
    EAKTE_DATA_DIR=/var/lib/eakte \
    EAKTE_HOST=0.0.0.0 \
    EAKTE_PORT=8000 \
    EAKTE_LOG_FORMAT=json
USER eakte
WORKDIR /var/lib/eakte
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
CMD ["eakte", "serve"]
