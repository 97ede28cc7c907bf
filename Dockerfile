# syntax=docker/dockerfile:1
# twinric's images, from one Dockerfile (the descriptors' `command` picks the process):
#   docker build --target xapp -t registry.twinric.example/twinric:0.1.0 .       control and PDP xApps, no torch
#   docker build --target twin -t registry.twinric.example/twinric-twin:0.1.0 .  the twin sidecar, CPU torch
# torch==2.13.0+cpu comes from the index or wheel directory given at build time, e.g.
#   --build-arg PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu   (or PIP_FIND_LINKS=<dir or URL>)
# RMR is the pure-Python one (ricproto.rmr) unless you have an image holding OSC's C library
# (/usr/local/lib/librmr_si.so*, glibc): --build-arg RMR=c --build-arg RMR_IMAGE=<that image>.
# TWINRIC_RMR=auto then loads the C library; TWINRIC_RMR=python keeps the pure-Python one.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG RMR=python
ARG RMR_IMAGE=scratch

# --- build: both virtual environments (gcc only here: hiredis 2.0.0, pinned by ricsdl, builds from source)
FROM ${PYTHON_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY ricproto ricproto
COPY e2sim e2sim
COPY ricplt ricplt
COPY xapps xapps
COPY twin_sidecar twin_sidecar
COPY twinric twinric
ARG PIP_FIND_LINKS=""
ARG PIP_EXTRA_INDEX_URL=""
# The xApps' environment: every dependency but the twin's torch and torchrl.
RUN python -m venv /opt/xapp \
 && python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print('\n'.join(d for d in deps if not d.startswith(('torch==', 'torchrl'))))" > /tmp/xapp-requirements.txt \
 && /opt/xapp/bin/pip install --no-cache-dir -c constraints.txt -r /tmp/xapp-requirements.txt \
 && /opt/xapp/bin/pip install --no-cache-dir --no-deps .
RUN python -m venv /opt/twin \
 && /opt/twin/bin/pip install --no-cache-dir -c constraints.txt .

# --- RMR: nothing (pure Python), or OSC's C library copied from RMR_IMAGE
FROM ${PYTHON_IMAGE} AS rmr-python
RUN mkdir -p /opt/rmr/lib

FROM ${RMR_IMAGE} AS rmr-c-source

FROM ${PYTHON_IMAGE} AS rmr-c
COPY --from=rmr-c-source /usr/local/lib/librmr_si.so* /opt/rmr/lib/

# hadolint ignore=DL3006
FROM rmr-${RMR} AS rmr

# --- what both images share: a non-root user, the seed route tables, the directories the pods write
FROM ${PYTHON_IMAGE} AS runtime
COPY --from=rmr /opt/rmr/lib/ /usr/local/lib/
RUN ldconfig \
 && groupadd --system --gid 10001 twinric \
 && useradd --system --uid 10001 --gid twinric --home-dir /app --shell /usr/sbin/nologin twinric \
 && mkdir -p /app /var/lib/twinric/twin /var/log/twinric /opt/ric/config \
 && chown twinric:twinric /var/lib/twinric/twin /var/log/twinric
WORKDIR /app
# The descriptors' RMR_SEED_RT: routes until rtmgr pushes the real table after registration.
COPY xapps/control/seed.rt /app/xapps/control/seed.rt
COPY xapps/pdp/seed.rt /app/xapps/pdp/seed.rt
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TWINRIC_RMR=auto \
    CONFIG_FILE=/opt/ric/config/config-file.json
USER 10001:10001

# --- the twin sidecar (python -m twinric.onboard_sidecar)
FROM runtime AS twin
COPY --from=build /opt/twin /opt/twin
ENV PATH=/opt/twin/bin:$PATH \
    TWINRIC_ROLE=twin
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "twinric.container_health"]
CMD ["python", "-m", "twinric.onboard_sidecar"]

# --- the xApps (the default target): python -m xapps.control | python -m xapps.pdp
FROM runtime AS xapp
COPY --from=build /opt/xapp /opt/xapp
ENV PATH=/opt/xapp/bin:$PATH \
    TWINRIC_ROLE=xapp
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "twinric.container_health"]
CMD ["python", "-m", "xapps.control"]
