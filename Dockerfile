# syntax=docker/dockerfile:1.7
# The control image: llem-scheduler, llem-ingest, llem-api (serving the built web app) and the llem CLI.
# It sits at the root because it packages the root project (`llem`, src/llem) and every control service;
# `docker build -t llem-control .` builds it. compose.yaml runs each process from it with its own command.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG NODE_IMAGE=node:22.20.0-bookworm-slim

# The web app: node's image rather than scripts/install-web.sh, which also installs Chromium for the
# browser tests (hundreds of MB an image build never uses); the build itself is the same `npm ci && npm run build`.
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM ${PYTHON_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# the venv lives where the runtime stage copies it to (its scripts name their interpreter by path)
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_EDITABLE=1 \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# the project's pinned uv, installed the way every machine gets it (into .tools/uv)
COPY scripts/ensure-uv.sh scripts/
RUN ln -s "$(scripts/ensure-uv.sh)" /usr/local/bin/uv
# dependencies first (their layer survives source edits): the lock and every member's pyproject.toml
COPY pyproject.toml uv.lock README.md ./
COPY schemas/pyproject.toml schemas/
COPY control/pyproject.toml control/
COPY services/api/pyproject.toml services/api/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/runner/pyproject.toml services/runner/
COPY services/scheduler/pyproject.toml services/scheduler/
# The `llem` package depends on the runner (for `llem demo`), hence on llama-cpp-python, an sdist that
# takes minutes to compile: the control processes never load it (it is imported only by the runner's backend).
RUN --mount=type=cache,id=uv-control,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package llem --no-install-package llama-cpp-python
COPY schemas/ schemas/
COPY control/ control/
COPY services/ services/
COPY src/ src/
RUN --mount=type=cache,id=uv-control,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package llem --no-install-package llama-cpp-python

FROM ${PYTHON_IMAGE} AS control
RUN useradd --system --uid 10001 --gid 0 --create-home --home-dir /home/llem --shell /usr/sbin/nologin llem \
    && chmod g=u /home/llem
COPY --from=build /app/.venv /app/.venv
COPY --from=web /src/web/dist /app/web
ENV PATH=/app/.venv/bin:$PATH \
    HOME=/home/llem \
    PYTHONUNBUFFERED=1 \
    LLEM_WEB_DIR=/app/web \
    LLEM_API_HOST=0.0.0.0 \
    LLEM_API_PORT=8000
WORKDIR /home/llem
# uid 10001 in group 0, what it writes group-writable: the image also runs as any uid with gid 0
# (compose's LLEM_UID: the owner of the 0600 nkey seeds it mounts; OpenShift does the same)
USER 10001:0
EXPOSE 8000
# The API's liveness (the default command); compose gives ingest and the scheduler their own checks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('LLEM_API_PORT', '8000') + '/healthz', timeout=2)"]
CMD ["llem-api", "run"]
