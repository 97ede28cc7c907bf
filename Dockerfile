# One image for every twinric process (xApps, twin sidecar, e2sim, platform stand-ins); the command picks
# the role, e.g. `twinric e2sim --scenario small --e2t e2term:36422`.
FROM python:3.11-slim-bookworm

# gcc + headers: hiredis 2.0.0 (pinned by ricsdl) has no wheel for Python 3.11.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# torch==2.13.0+cpu comes from the index or wheel directory given at build time:
#   docker build --build-arg PIP_FIND_LINKS=/path/or/url/with/torch-cpu-wheels .
ARG PIP_FIND_LINKS=""
ARG PIP_EXTRA_INDEX_URL=""
RUN pip install --no-cache-dir -c constraints.txt . \
 && apt-get purge -y gcc libc6-dev && apt-get autoremove -y

# xApp descriptors refer to files under /app (e.g. RMR_SEED_RT=/app/xapps/control/seed.rt).
ENV PYTHONUNBUFFERED=1 TWINRIC_RMR=auto
ENTRYPOINT ["twinric"]
CMD ["doctor"]
