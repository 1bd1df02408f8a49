"""The AWS::Lambda::* resource types, each a model over Tarn's Lambda API with AWS's Ref
(`physical_resource_id`) and Fn::GetAtt attributes.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_Lambda.html
"""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

from services.companion.cloudformation import cfn_response
from services.companion.cloudformation.models import TarnResource, call, ignoring_missing, wait

# Inline ZipFile code lands in this file, by runtime family, as on AWS.
INLINE_FILES = (("python", "index.py"), ("nodejs", "index.js"))
MAX_FUNCTION_NAME = 64
# What a function's update cannot change in place.
FUNCTION_REPLACED_BY = ("FunctionName", "PackageType")


def inline_zip(code: str, runtime: str) -> bytes:
    """The code in its file, and beside it, as on AWS, the module custom resources answer with."""
    name = next((file for family, file in INLINE_FILES if runtime.startswith(family)), "index")
    files = {name: code}
    if runtime.startswith("python"):
        files["cfnresponse.py"] = cfn_response.PYTHON
    elif runtime.startswith("nodejs"):
        files["cfn-response.js"] = cfn_response.NODE
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, text in files.items():
            info = zipfile.ZipInfo(file)
            info.external_attr = 0o100644 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def _code(properties: dict[str, Any]) -> dict[str, Any]:
    code = dict(properties.get("Code", {}))
    if "ZipFile" in code:
        code["ZipFile"] = inline_zip(code["ZipFile"], properties.get("Runtime", ""))
    return code


def _qualifier(arn_or_name: str) -> str | None:
    parts = arn_or_name.split(":")
    return parts[7] if len(parts) == 8 else None


class Function(TarnResource):
    cfn_type = "AWS::Lambda::Function"
    name_property = "FunctionName"
    ATTRIBUTES = ("Arn",)

    def create(self) -> None:
        self.name = self.physical_resource_id = self.name[:MAX_FUNCTION_NAME]
        params = self.properties | {"FunctionName": self.name, "Code": _code(self.properties)}
        created = call(self.region, "CreateFunction", params)
        self.attributes = {"Arn": created["FunctionArn"]}
        wait(self.region, "function_active_v2", self.name)
        self._concurrency(self.properties)

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        return all(properties.get(k) == self.properties.get(k) for k in FUNCTION_REPLACED_BY)

    def update(self, properties: dict[str, Any]) -> None:
        call(self.region, "UpdateFunctionConfiguration", properties | {"FunctionName": self.name})
        wait(self.region, "function_updated_v2", self.name)
        if properties.get("Code") != self.properties.get("Code"):
            code = _code(properties) | {"FunctionName": self.name}
            call(self.region, "UpdateFunctionCode", code)
            wait(self.region, "function_updated_v2", self.name)
        self._concurrency(properties)

    def _concurrency(self, properties: dict[str, Any]) -> None:
        reserved = properties.get("ReservedConcurrentExecutions")
        if reserved is not None:
            params = {"FunctionName": self.name, "ReservedConcurrentExecutions": reserved}
            call(self.region, "PutFunctionConcurrency", params)
        elif "ReservedConcurrentExecutions" in self.properties:
            call(self.region, "DeleteFunctionConcurrency", {"FunctionName": self.name})

    def delete(self, account_id: str, region_name: str) -> None:
        ignoring_missing(lambda: call(self.region, "DeleteFunction", {"FunctionName": self.name}))


class Version(TarnResource):
    cfn_type = "AWS::Lambda::Version"
    ATTRIBUTES = ("Version", "FunctionArn")

    def create(self) -> None:
        published = call(self.region, "PublishVersion", self.properties)
        self.physical_resource_id = published["FunctionArn"]
        self.attributes = {"Version": published["Version"], "FunctionArn": published["FunctionArn"]}

    def delete(self, account_id: str, region_name: str) -> None:
        # AWS keeps a version whose stack resource goes unless asked; a stack delete removes it.
        params = {
            "FunctionName": self.properties["FunctionName"],
            "Qualifier": self.attributes["Version"],
        }
        ignoring_missing(lambda: call(self.region, "DeleteFunction", params))


class Alias(TarnResource):
    cfn_type = "AWS::Lambda::Alias"
    ATTRIBUTES = ("AliasArn",)

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        params = dict(properties)
        weights = properties.get("RoutingConfig", {}).get("AdditionalVersionWeights")
        if weights is not None:  # CloudFormation's list; the API's map
            table = {w["FunctionVersion"]: float(w["FunctionWeight"]) for w in weights}
            params["RoutingConfig"] = {"AdditionalVersionWeights": table}
        return params

    def create(self) -> None:
        created = call(self.region, "CreateAlias", self._params(self.properties))
        self.physical_resource_id = created["AliasArn"]
        self.attributes = {"AliasArn": created["AliasArn"]}

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        same = ("FunctionName", "Name")
        return all(properties.get(k) == self.properties.get(k) for k in same)

    def update(self, properties: dict[str, Any]) -> None:
        params = self._params(properties)
        params.setdefault("RoutingConfig", {"AdditionalVersionWeights": {}})
        call(self.region, "UpdateAlias", params)

    def delete(self, account_id: str, region_name: str) -> None:
        params = {"FunctionName": self.properties["FunctionName"], "Name": self.properties["Name"]}
        ignoring_missing(lambda: call(self.region, "DeleteAlias", params))


class Permission(TarnResource):
    cfn_type = "AWS::Lambda::Permission"
    ATTRIBUTES = ("Id",)

    def create(self) -> None:
        self.statement = f"{self.name[:80]}"
        params = self.properties | {"StatementId": self.statement}
        function = self.properties["FunctionName"]
        qualifier = _qualifier(function)
        if qualifier:
            params |= {"FunctionName": function.rsplit(":", 1)[0], "Qualifier": qualifier}
        self.params = params
        call(self.region, "AddPermission", params)
        self.physical_resource_id = self.statement
        self.attributes = {"Id": self.statement}

    def delete(self, account_id: str, region_name: str) -> None:
        keys = ("FunctionName", "StatementId", "Qualifier")
        params = {k: v for k, v in self.params.items() if k in keys}
        ignoring_missing(lambda: call(self.region, "RemovePermission", params))


class LayerVersion(TarnResource):
    cfn_type = "AWS::Lambda::LayerVersion"
    ATTRIBUTES = ("LayerVersionArn",)

    def create(self) -> None:
        params = self.properties | {"LayerName": self.properties.get("LayerName", self.name)}
        published = call(self.region, "PublishLayerVersion", params)
        self.physical_resource_id = published["LayerVersionArn"]
        self.attributes = {"LayerVersionArn": published["LayerVersionArn"]}

    def delete(self, account_id: str, region_name: str) -> None:
        arn = self.physical_resource_id
        params = {"LayerName": arn.rsplit(":", 1)[0], "VersionNumber": arn.rsplit(":", 1)[1]}
        ignoring_missing(lambda: call(self.region, "DeleteLayerVersion", params))


class LayerVersionPermission(TarnResource):
    cfn_type = "AWS::Lambda::LayerVersionPermission"
    ATTRIBUTES = ("Id",)

    def _target(self) -> dict[str, Any]:
        layer, version = self.properties["LayerVersionArn"].rsplit(":", 1)
        return {"LayerName": layer, "VersionNumber": version, "StatementId": self.name[:100]}

    def create(self) -> None:
        call(self.region, "AddLayerVersionPermission", self.properties | self._target())
        self.physical_resource_id = f"{self.properties['LayerVersionArn']}#{self.name[:100]}"
        self.attributes = {"Id": self.physical_resource_id}

    def delete(self, account_id: str, region_name: str) -> None:
        target = self._target()
        ignoring_missing(lambda: call(self.region, "RemoveLayerVersionPermission", target))


class EventSourceMapping(TarnResource):
    cfn_type = "AWS::Lambda::EventSourceMapping"
    ATTRIBUTES = ("Id", "EventSourceMappingArn")
    STEADY = ("Enabled", "Disabled")  # CloudFormation waits out Creating / Updating

    def create(self) -> None:
        created = call(self.region, "CreateEventSourceMapping", self.properties)
        self.physical_resource_id = created["UUID"]
        arn = created.get("EventSourceMappingArn", "")
        self.attributes = {"Id": created["UUID"], "EventSourceMappingArn": arn}
        self._settle()

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        same = ("EventSourceArn", "StartingPosition", "StartingPositionTimestamp")
        return all(properties.get(k) == self.properties.get(k) for k in same)

    def update(self, properties: dict[str, Any]) -> None:
        call(
            self.region,
            "UpdateEventSourceMapping",
            properties | {"UUID": self.physical_resource_id},
        )
        self._settle()

    def _settle(self) -> None:
        for _ in range(1500):
            got = call(self.region, "GetEventSourceMapping", {"UUID": self.physical_resource_id})
            if got["State"] in self.STEADY:
                return
            time.sleep(0.2)

    def delete(self, account_id: str, region_name: str) -> None:
        params = {"UUID": self.physical_resource_id}
        ignoring_missing(lambda: call(self.region, "DeleteEventSourceMapping", params))


class Url(TarnResource):
    cfn_type = "AWS::Lambda::Url"
    ATTRIBUTES = ("FunctionArn", "FunctionUrl")

    def _params(self, properties: dict[str, Any]) -> dict[str, Any]:
        return properties | {"FunctionName": properties["TargetFunctionArn"]}

    def create(self) -> None:
        created = call(self.region, "CreateFunctionUrlConfig", self._params(self.properties))
        self.physical_resource_id = created["FunctionArn"]
        self.attributes = {
            "FunctionArn": created["FunctionArn"],
            "FunctionUrl": created["FunctionUrl"],
        }

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        same = ("TargetFunctionArn", "Qualifier")
        return all(properties.get(k) == self.properties.get(k) for k in same)

    def update(self, properties: dict[str, Any]) -> None:
        call(self.region, "UpdateFunctionUrlConfig", self._params(properties))

    def delete(self, account_id: str, region_name: str) -> None:
        params = {
            k: v
            for k, v in self._params(self.properties).items()
            if k in ("FunctionName", "Qualifier")
        }
        ignoring_missing(lambda: call(self.region, "DeleteFunctionUrlConfig", params))


class EventInvokeConfig(TarnResource):
    cfn_type = "AWS::Lambda::EventInvokeConfig"

    def create(self) -> None:
        call(self.region, "PutFunctionEventInvokeConfig", self.properties)
        self.physical_resource_id = (
            f"{self.properties['FunctionName']}:{self.properties['Qualifier']}"
        )

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        same = ("FunctionName", "Qualifier")
        return all(properties.get(k) == self.properties.get(k) for k in same)

    def update(self, properties: dict[str, Any]) -> None:
        call(self.region, "PutFunctionEventInvokeConfig", properties)

    def delete(self, account_id: str, region_name: str) -> None:
        params = {k: self.properties[k] for k in ("FunctionName", "Qualifier")}
        ignoring_missing(lambda: call(self.region, "DeleteFunctionEventInvokeConfig", params))


class CodeSigningConfig(TarnResource):
    cfn_type = "AWS::Lambda::CodeSigningConfig"
    ATTRIBUTES = ("CodeSigningConfigArn", "CodeSigningConfigId")

    def create(self) -> None:
        created = call(self.region, "CreateCodeSigningConfig", self.properties)["CodeSigningConfig"]
        self.physical_resource_id = created["CodeSigningConfigArn"]
        self.attributes = {k: created[k] for k in self.ATTRIBUTES}

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        return True

    def update(self, properties: dict[str, Any]) -> None:
        arn = {"CodeSigningConfigArn": self.physical_resource_id}
        call(self.region, "UpdateCodeSigningConfig", properties | arn)

    def delete(self, account_id: str, region_name: str) -> None:
        params = {"CodeSigningConfigArn": self.physical_resource_id}
        ignoring_missing(lambda: call(self.region, "DeleteCodeSigningConfig", params))
