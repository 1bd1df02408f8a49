"""AWS Lambda's quotas that Tarn enforces in more than one place.

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
"""

from __future__ import annotations

# Processes and threads in one execution environment, together.
PROCESSES_PER_ENVIRONMENT = 1024
# Invocation payload, request and response, of a synchronous invocation (6 MB).
SYNC_PAYLOAD_BYTES = 6_291_456
# What a runtime may post as its response: the payload quota plus AWS's 100 bytes of slack,
# past which it answers Function.ResponseSizeTooLarge.
RUNTIME_RESPONSE_BYTES = SYNC_PAYLOAD_BYTES + 100
# A streamed response (InvokeWithResponseStream, RESPONSE_STREAM URLs): 20 MB.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
STREAM_RESPONSE_BYTES = 20 * 1024 * 1024
# Deployment package: zipped upload (50 MB) and unzipped code plus layers (250 MB).
ZIPPED_CODE_BYTES = 52_428_800
UNZIPPED_CODE_BYTES = 262_144_000
# Tags on one function, mapping or code signing config.
TAGS_PER_RESOURCE = 50
# Function configuration bounds.
TIMEOUT_S = (1, 900)
MEMORY_MB = (128, 10_240)
EPHEMERAL_STORAGE_MB = (512, 10_240)
# The largest request body an operation takes: CreateFunction with a 50 MB zip in base64.
REQUEST_BYTES = 70_167_211
# Event invocations: retries after a function error (0 to 2, 2 by default) and the age an
# event may reach (60 s to 6 hours, 6 hours by default).
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_EVENT_AGE_S = (60, 21_600)
