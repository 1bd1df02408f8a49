"""Code signing configs and their attachment to functions: Create/Get/Update/Delete/List
CodeSigningConfigs, ListFunctionsByCodeSigningConfig, Get/Put/DeleteFunctionCodeSigningConfig.

Tarn stores and returns the configs as AWS does but does NOT verify signatures: code is
deployed whatever the config's UntrustedArtifactOnDeployment says.
https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from quart import Blueprint, Response

from bus.records import CodeSigningConfig, FunctionSettings
from bus.stores import RecordMissing
from services.context import ApiContext, api
from services.errors import (
    CodeSigningConfigNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from services.functions.configurations import last_modified_now
from services.functions.refs import function_arn, function_missing, function_ref
from services.requests import (
    Problems,
    RequestShape,
    decode_body,
    list_page,
    read_body,
)
from services.responses import json_response

blueprint = Blueprint("code_signing", __name__)

CONFIGS = "/2020-04-22/code-signing-configs"
CONFIG = CONFIGS + "/<arn>"
FUNCTION_CONFIG = "/2020-06-30/functions/<function_name>/code-signing-config"
# botocore's CodeSigningConfigArn pattern and the model's limits.
ARN_PATTERN = (
    r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:"
    r"code-signing-config:csc-[a-z0-9]{17}"
)
ARN_MAX = 200
DESCRIPTION_MAX = 256
PUBLISHERS_MAX = 20
POLICIES = ("Warn", "Enforce")


class AllowedPublishersInput(RequestShape):
    signing_profile_version_arns: list[str] | None = None


class CodeSigningPoliciesInput(RequestShape):
    untrusted_artifact_on_deployment: str | None = None


class CodeSigningConfigInput(RequestShape):
    description: str | None = None
    allowed_publishers: AllowedPublishersInput | None = None
    code_signing_policies: CodeSigningPoliciesInput | None = None
    tags: dict[str, str] | None = None


class FunctionCodeSigningInput(RequestShape):
    code_signing_config_arn: str | None = None


@blueprint.post(CONFIGS)
async def create_config() -> Response:
    context = api()
    body = decode_body(await read_body(), CodeSigningConfigInput)
    _check(body, creating=True)
    assert body.allowed_publishers is not None
    csc_id = "csc-" + secrets.token_hex(9)[:17]
    config = CodeSigningConfig(
        csc_id=csc_id,
        arn=config_arn(context, csc_id),
        signing_profile_version_arns=body.allowed_publishers.signing_profile_version_arns or [],
        last_modified=last_modified_now(),
    )
    config = _changed(config, body)
    await context.stores.code_signing_configs.put(config)
    if body.tags:
        await context.stores.tags.merge(context.stores.tags.code_signing_config(csc_id), body.tags)
    return json_response({"CodeSigningConfig": render(config)}, 201)


@blueprint.get(CONFIGS)
async def list_configs() -> Response:
    context = api()
    page = list_page()
    configs = await context.stores.code_signing_configs.all()
    after = [c for c in configs if not page.marker or c.csc_id > page.marker]
    return page.respond("CodeSigningConfigs", after, render, lambda c: c.csc_id)


@blueprint.get(CONFIG)
async def get_config(arn: str) -> Response:
    config = await _existing(api(), arn)
    return json_response({"CodeSigningConfig": render(config)})


@blueprint.put(CONFIG)
async def update_config(arn: str) -> Response:
    context = api()
    body = decode_body(await read_body(), CodeSigningConfigInput)
    _check(body, creating=False, arn=arn)
    csc_id = await _id_of(context, arn)
    try:
        config = await context.stores.code_signing_configs.update(
            csc_id, lambda current: _changed(current, body)
        )
    except RecordMissing:
        raise _config_missing(arn) from None
    return json_response({"CodeSigningConfig": render(config)})


@blueprint.delete(CONFIG)
async def delete_config(arn: str) -> Response:
    context = api()
    _check_arn(arn)
    in_use = await context.stores.code_signing_configs.delete(await _id_of(context, arn), arn)
    if in_use is None:
        raise _config_missing(arn)
    if in_use:
        raise ResourceConflictException(
            f"The code signing configuration {arn} cannot be deleted because it is used by "
            f"the following functions: [{', '.join(in_use)}]"
        )
    return Response(b"", status=204)


@blueprint.get(CONFIG + "/functions")
async def list_functions_by_config(arn: str) -> Response:
    context = api()
    await _existing(context, arn)
    users = sorted(
        s.function_name
        for s in await context.stores.function_settings.all()
        if s.code_signing_config_arn == arn
    )
    page = list_page()
    after = [name for name in users if not page.marker or name > page.marker]
    return page.respond("FunctionArns", after, lambda n: function_arn(context.settings, n), str)


@blueprint.get(FUNCTION_CONFIG)
async def get_function_config(function_name: str) -> Response:
    """AWS answers 200 with an empty body when no config is attached (Terraform reads this
    for every function)."""
    context = api()
    name = function_ref(function_name).name
    if await context.stores.functions.get(name) is None:
        raise function_missing(context, name)
    arn = (await context.stores.function_settings.get(name)).code_signing_config_arn
    if arn is None:
        return json_response({})
    return json_response({"CodeSigningConfigArn": arn, "FunctionName": name})


@blueprint.put(FUNCTION_CONFIG)
async def put_function_config(function_name: str) -> Response:
    context = api()
    body = decode_body(await read_body(), FunctionCodeSigningInput)
    problems = Problems()
    problems.required(body.code_signing_config_arn, "codeSigningConfigArn")
    problems.max_length(body.code_signing_config_arn, "codeSigningConfigArn", ARN_MAX)
    problems.pattern(body.code_signing_config_arn, "codeSigningConfigArn", ARN_PATTERN)
    problems.raise_any()
    assert body.code_signing_config_arn is not None
    name = function_ref(function_name).name
    await attach(context, name, body.code_signing_config_arn)
    return json_response(
        {"CodeSigningConfigArn": body.code_signing_config_arn, "FunctionName": name}
    )


@blueprint.delete(FUNCTION_CONFIG)
async def delete_function_config(function_name: str) -> Response:
    context = api()
    name = function_ref(function_name).name
    await _set_attachment(context, name, None)
    return Response(b"", status=204)


async def check_attachable(context: ApiContext, arn: str) -> None:
    """CreateFunction and PutFunctionCodeSigningConfig: the config must exist."""
    csc_id = arn.rsplit(":", 1)[-1]
    if not arn.startswith(config_arn(context, "")) or (
        await context.stores.code_signing_configs.get(csc_id) is None
    ):
        raise CodeSigningConfigNotFoundException(
            "The code signing configuration cannot be found. Check that the provided "
            f"configuration is not deleted: {arn}."
        )


async def attach(context: ApiContext, name: str, arn: str) -> None:
    await check_attachable(context, arn)
    await _set_attachment(context, name, arn)


async def _set_attachment(context: ApiContext, name: str, arn: str | None) -> None:
    def change(current: FunctionSettings, _: list[FunctionSettings]) -> FunctionSettings:
        return msgspec.structs.replace(current, code_signing_config_arn=arn)

    try:
        await context.stores.function_settings.write(name, change)
    except RecordMissing:
        raise function_missing(context, name) from None


def _check(body: CodeSigningConfigInput, *, creating: bool, arn: str | None = None) -> None:
    problems = Problems()
    if arn is not None:
        _arn_problems(problems, arn)
    if creating:
        problems.required(body.allowed_publishers, "allowedPublishers")
    publishers = body.allowed_publishers
    if publishers is not None:
        arns = publishers.signing_profile_version_arns
        problems.required(arns, "allowedPublishers.signingProfileVersionArns")
        if arns is not None and not 1 <= len(arns) <= PUBLISHERS_MAX:
            bound = (
                "greater than or equal to 1"
                if not arns
                else f"less than or equal to {PUBLISHERS_MAX}"
            )
            problems.add(
                f"[{', '.join(arns)}]",
                "allowedPublishers.signingProfileVersionArns",
                f"Member must have length {bound}",
            )
    problems.max_length(body.description, "description", DESCRIPTION_MAX)
    policy = body.code_signing_policies
    if policy is not None and policy.untrusted_artifact_on_deployment not in (None, *POLICIES):
        problems.add(
            policy.untrusted_artifact_on_deployment,
            "codeSigningPolicies.untrustedArtifactOnDeployment",
            "Member must satisfy enum value set: [Warn, Enforce]",
        )
    problems.raise_any()


def _check_arn(arn: str) -> None:
    problems = Problems()
    _arn_problems(problems, arn)
    problems.raise_any()


def _arn_problems(problems: Problems, arn: str) -> None:
    problems.max_length(arn, "codeSigningConfigArn", ARN_MAX)
    problems.pattern(arn, "codeSigningConfigArn", ARN_PATTERN)


def _changed(config: CodeSigningConfig, body: CodeSigningConfigInput) -> CodeSigningConfig:
    changes: dict[str, Any] = {"last_modified": last_modified_now()}
    if body.description is not None:
        changes["description"] = body.description
    publishers = body.allowed_publishers
    if publishers is not None and publishers.signing_profile_version_arns is not None:
        changes["signing_profile_version_arns"] = publishers.signing_profile_version_arns
    policy = body.code_signing_policies
    if policy is not None and policy.untrusted_artifact_on_deployment is not None:
        changes["untrusted_artifact_on_deployment"] = policy.untrusted_artifact_on_deployment
    return msgspec.structs.replace(config, **changes)


async def _id_of(context: ApiContext, arn: str) -> str:
    if not arn.startswith(config_arn(context, "")):
        raise _config_missing(arn)
    return arn.rsplit(":", 1)[-1]


async def _existing(context: ApiContext, arn: str) -> CodeSigningConfig:
    _check_arn(arn)
    config = await context.stores.code_signing_configs.get(await _id_of(context, arn))
    if config is None:
        raise _config_missing(arn)
    return config


def _config_missing(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        f"The Lambda code signing configuration {arn} can not be found."
    )


def _scope(context: ApiContext) -> str:
    return f"{context.settings.region}:{context.settings.account_id}"


def config_arn(context: ApiContext, csc_id: str) -> str:
    return f"arn:aws:lambda:{_scope(context)}:code-signing-config:{csc_id}"


def render(config: CodeSigningConfig) -> dict[str, Any]:
    """A CodeSigningConfig as AWS renders it."""
    return {
        "CodeSigningConfigId": config.csc_id,
        "CodeSigningConfigArn": config.arn,
        "Description": config.description,
        "AllowedPublishers": {"SigningProfileVersionArns": config.signing_profile_version_arns},
        "CodeSigningPolicies": {
            "UntrustedArtifactOnDeployment": config.untrusted_artifact_on_deployment
        },
        "LastModified": config.last_modified,
    }
