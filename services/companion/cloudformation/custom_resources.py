"""Custom resources (Custom::* and AWS::CloudFormation::CustomResource) backed by a function in
Tarn: CloudFormation's request goes to the function (an Event invocation, as on AWS) with a
ResponseURL presigned on the companion's S3 at Tarn's endpoint (which functions reach), and the
response put there decides: SUCCESS or FAILED (with its Reason), the PhysicalResourceId, and
Data for Fn::GetAtt. Update and Delete requests follow as the stack changes.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import botocore.session
from botocore.config import Config
from moto.cloudformation.exceptions import ValidationError
from moto.s3.models import s3_backends

from bus.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from services.companion.cloudformation.models import TarnResource
from services.companion.tarn import invoke_event, lambda_endpoint, settings

BUCKET = "tarn-cloudformation-custom-resources"
# AWS waits an hour for a response; a local stack that waits that long looks hung.
RESPONSE_TIMEOUT_S = 300.0
POLL_S = 0.1
FAILED_MESSAGE = "Received response status [FAILED] from custom resource. Message returned: "
PRESIGNED_FOR_S = 7200


class CustomResource(TarnResource):
    cfn_type = "AWS::CloudFormation::CustomResource"
    account_id = ""
    stack_id = ""
    logical_id = ""
    resource_type = cfn_type

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # whatever the function's Data holds

    def place(self, account_id: str, stack: dict[str, Any]) -> None:
        self.account_id = account_id
        self.stack_id = str(stack.get("StackId", ""))
        self.logical_id = str(stack.get("LogicalId", self.name))
        self.resource_type = str(stack.get("ResourceType", self.cfn_type))

    def create(self) -> None:
        answer = self._request("Create", self.properties)
        self.physical_resource_id = str(answer.get("PhysicalResourceId") or self.name)
        self.attributes = dict(answer.get("Data") or {})

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        return True  # the function decides: a new PhysicalResourceId is a replacement

    def update(self, properties: dict[str, Any]) -> None:
        answer = self._request("Update", properties, old=self.properties)
        replaced_id = self.physical_resource_id
        self.physical_resource_id = str(answer.get("PhysicalResourceId") or replaced_id)
        self.attributes = dict(answer.get("Data") or {})
        if self.physical_resource_id != replaced_id:  # AWS then deletes the old one
            old = CustomResource(self.region, self.name, self.properties)
            vars(old).update(vars(self) | {"physical_resource_id": replaced_id})
            old.delete(self.account_id, self.region)

    def delete(self, account_id: str, region_name: str) -> None:
        self._request("Delete", self.properties)

    def _request(
        self, kind: str, properties: dict[str, Any], old: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send the request, wait for the response; its body, or ValidationError if FAILED."""
        request_id = str(uuid.uuid4())
        key = f"{self.logical_id}/{request_id}"
        request = {
            "RequestType": kind,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": _response_url(self.account_id, key),
            "StackId": self.stack_id,
            "RequestId": request_id,
            "ResourceType": self.resource_type,
            "LogicalResourceId": self.logical_id,
            "ResourceProperties": properties,
        }
        if kind != "Create":
            request["PhysicalResourceId"] = self.physical_resource_id
        if old is not None:
            request["OldResourceProperties"] = old
        invoke_event(properties["ServiceToken"], request, self.region)
        answer = _wait_for(self.account_id, key)
        if answer.get("Status") != "SUCCESS":
            reason = answer.get("Reason") or "the custom resource answered FAILED"
            raise ValidationError(message=FAILED_MESSAGE + str(reason))
        return answer


def _response_url(account_id: str, key: str) -> str:
    """A presigned PUT on the companion's S3, at Tarn's endpoint: what functions reach."""
    s3 = s3_backends[account_id]["aws"]
    if BUCKET not in s3.buckets:
        s3.create_bucket(BUCKET, settings().region)
    client = botocore.session.get_session().create_client(
        "s3",
        region_name=settings().region,
        endpoint_url=lambda_endpoint(),
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    params = {"Bucket": BUCKET, "Key": key}
    return str(
        client.generate_presigned_url("put_object", Params=params, ExpiresIn=PRESIGNED_FOR_S)
    )


def _wait_for(account_id: str, key: str) -> dict[str, Any]:
    s3 = s3_backends[account_id]["aws"]
    deadline = time.monotonic() + RESPONSE_TIMEOUT_S
    while time.monotonic() < deadline:
        found = s3.buckets[BUCKET].keys.get(key)
        if found is not None:
            answer = json.loads(found.value)
            s3.delete_object(BUCKET, key)
            return dict(answer)
        time.sleep(POLL_S)
    return {"Status": "FAILED", "Reason": f"no response within {RESPONSE_TIMEOUT_S:.0f} s"}
