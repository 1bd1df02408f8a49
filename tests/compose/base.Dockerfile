# The compose test's stand-in for python:3.12-slim, on the stand-in runtimes' Debian base
# (no registry here): Debian's python3 with venv, Node.js, and this machine's certificate
# authorities, which pip needs when HTTPS leaves through an inspecting proxy.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/host-certificates.crt
ENV PIP_CERT=/etc/ssl/host-certificates.crt \
    LD_LIBRARY_PATH= \
    LAMBDA_TASK_ROOT= \
    LAMBDA_RUNTIME_DIR=
WORKDIR /
ENTRYPOINT []
CMD ["python3"]
