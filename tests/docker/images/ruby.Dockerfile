# The Ruby stand-in: Debian's ruby on the base, running Tarn's own bootstrap.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ruby \
    && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man
COPY bootstrap.rb /var/runtime/bootstrap.rb
COPY ruby-bootstrap /var/runtime/bootstrap
