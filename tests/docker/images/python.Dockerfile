ARG BASE
FROM ${BASE}
COPY ric/ /var/runtime/
COPY python-bootstrap /var/runtime/bootstrap
