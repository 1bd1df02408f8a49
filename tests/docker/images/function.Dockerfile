# A PackageType Image function as a user builds one: the runtime's base image plus code.
ARG BASE
FROM ${BASE}
COPY app.py /var/task/app.py
CMD ["app.handler"]
