ARG BASE
FROM ${BASE}
ENV NODE_PATH=/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task
COPY bootstrap.mjs /var/runtime/bootstrap.mjs
COPY nodejs-bootstrap /var/runtime/bootstrap
