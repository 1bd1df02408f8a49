"""The runtimes Lambda knows: which can be used today, which are deprecated, and their images.

https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
"""

from __future__ import annotations

from services.errors import InvalidParameterValueException, constraint

# botocore's Runtime enum, in the model's order (AWS lists it so in its errors).
KNOWN = (
    "nodejs nodejs4.3 nodejs6.10 nodejs8.10 nodejs10.x nodejs12.x nodejs14.x nodejs16.x java8 "
    "java8.al2 java11 python2.7 python3.6 python3.7 python3.8 python3.9 dotnetcore1.0 "
    "dotnetcore2.0 dotnetcore2.1 dotnetcore3.1 dotnet6 dotnet8 nodejs4.3-edge go1.x ruby2.5 "
    "ruby2.7 provided provided.al2 nodejs18.x python3.10 java17 ruby3.2 ruby3.3 ruby3.4 "
    "python3.11 nodejs20.x provided.al2023 python3.12 java21 python3.13 nodejs22.x nodejs24.x "
    "python3.14 java25 dotnet10 ruby4.0"
).split()

# Runtimes whose create/update block has begun, with the runtime AWS recommends instead.
BLOCKED = {
    "nodejs": "nodejs22.x",
    "nodejs4.3": "nodejs22.x",
    "nodejs6.10": "nodejs22.x",
    "nodejs8.10": "nodejs22.x",
    "nodejs10.x": "nodejs22.x",
    "nodejs12.x": "nodejs22.x",
    "nodejs14.x": "nodejs22.x",
    "nodejs4.3-edge": "nodejs22.x",
    "python2.7": "python3.13",
    "python3.6": "python3.13",
    "python3.7": "python3.13",
    "python3.8": "python3.13",
    "dotnetcore1.0": "dotnet8",
    "dotnetcore2.0": "dotnet8",
    "dotnetcore2.1": "dotnet8",
    "dotnetcore3.1": "dotnet8",
    "dotnet6": "dotnet8",
    "go1.x": "provided.al2023",
    "ruby2.5": "ruby3.3",
    "ruby2.7": "ruby3.3",
    "java8": "java21",
    "provided": "provided.al2023",
}


def check_runtime(runtime: str) -> None:
    if runtime not in KNOWN:
        raise constraint(
            runtime,
            "runtime",
            f"Member must satisfy enum value set: [{', '.join(KNOWN)}] or be a valid ARN",
        )
    if runtime in BLOCKED:
        raise InvalidParameterValueException(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            f"updating AWS Lambda functions. We recommend you use the new runtime "
            f"({BLOCKED[runtime]}) while creating or updating functions."
        )
