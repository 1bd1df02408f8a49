# The compose test's stand-in for the redis:7 image (REDIS_IMAGE), on the stand-in runtimes'
# Debian base: Debian's redis-server, data in /data as in the official image.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data
WORKDIR /data
ENTRYPOINT []
CMD ["redis-server"]
