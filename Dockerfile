# Tarn in one image: the API, every worker and the companion, each started by its own command:
#   tarn serve-api | tarn worker <functions|pool|async|event_sources> | tarn companion
# (compose.yaml runs one service per command). The base is a build argument, so that a
# machine without a registry builds on a base it made itself (tests/compose/images.py):
#   docker build -t tarn-lambda --build-arg BASE=python:3.12-slim .
ARG BASE=python:3.12-slim
FROM ${BASE}

# In a container the API listens on every interface of the container's own network; publish
# it on the host's loopback only (compose.yaml: 127.0.0.1:4566).
ENV PATH=/opt/tarn/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TARN_DATA_DIR=/var/lib/tarn \
    TARN_HOST=0.0.0.0

# Node.js runs Node functions in the process executor; python3-venv where the base's Python
# lacks it (Debian's own python3); an official Python image only lacks Node.js. Tarn runs as
# the user `tarn`, except where compose.yaml gives a service the Docker socket.
RUN set -eux; \
    missing=""; \
    command -v node >/dev/null || missing="nodejs"; \
    python3 -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"; \
    if [ -n "$missing" ]; then \
        apt-get update -qq; \
        apt-get install -y -qq --no-install-recommends $missing; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3 -m venv /opt/tarn; \
    useradd --system --uid 10001 --home-dir /var/lib/tarn --create-home tarn
WORKDIR /var/lib/tarn
EXPOSE 4566
ENTRYPOINT ["tarn"]
CMD ["serve-api"]

# Dependencies in a layer of their own, with the build backend: a change to Tarn's code (or
# README) then reinstalls neither, and builds Tarn without fetching anything.
COPY pyproject.toml /src/
RUN mkdir /src/bus /src/services /src/workers && touch /src/README.md \
    && pip install --no-cache-dir --disable-pip-version-check -q /src "setuptools>=68" \
    && pip uninstall -y -q tarn-lambda \
    && rm -rf /src
COPY . /src/
RUN pip install --no-cache-dir --disable-pip-version-check -q --no-deps --no-build-isolation /src \
    && rm -rf /src
USER tarn
