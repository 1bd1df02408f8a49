#!/bin/sh
# Stand-in for the AWS base images' /lambda-entrypoint.sh: the handler is its one argument.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  echo "AWS_LAMBDA_RUNTIME_API is not set, and this stand-in has no emulator of its own" 1>&2
  exit 1
fi
exec /var/runtime/bootstrap
