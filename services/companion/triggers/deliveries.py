"""Push triggers invoke Tarn's functions, never moto's own Lambda: S3 bucket notifications,
SNS subscriptions with protocol `lambda` and EventBridge rules with Lambda targets become Event
invocations in Tarn (its async path: retries, destinations, DLQ), with the events AWS sends,
when the function's resource policy lets the service invoke it (policies.py), as on AWS.
https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html, .../with-sns.html,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import jsonpath_ng.ext
from moto.events.models import EventPattern, Rule
from moto.events.utils import EventTemplateParser
from moto.s3 import notifications
from moto.sns.models import Subscription

from services.companion.tarn import invoke_event
from services.companion.triggers.policies import allows

# Who delivers, as a resource policy names it: service principal, source ARN, account, region.
Source = tuple[str, str, str, str]

log = logging.getLogger("tarn.companion")
# The placeholders AWS's own sample events carry where a local stack has no real value.
PRINCIPAL = "AWS:AIDAEXAMPLE"
SNS_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000.pem"

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (notifications, "_invoke_awslambda", ("account_id", "event_body", "fn_arn", "region_name")),
    (
        Subscription,
        "publish",
        ("self", "message", "message_id", "subject", "message_attributes", "group_id"),
    ),
    (Subscription, "_parse_message_structure", ("self", "message", "protocol")),
    (Rule, "send_to_targets", ("self", "original_event", "transform_input")),
    (EventTemplateParser, "parse", ("input_template", "input_paths_map", "event")),
    (EventPattern, "load", ("raw_pattern",)),
    (EventPattern, "get_pattern", ("self",)),
]


# moto's own Rule.send_to_targets, kept when the hook replaces it.
_MOTO_SEND: list[Callable[..., None]] = []


def install() -> None:
    notifications._invoke_awslambda = s3_notification
    _MOTO_SEND.append(Rule.send_to_targets)
    Subscription.publish = _sns_publish(Subscription.publish)  # type: ignore[method-assign]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]


def invoke(function: str, event: dict[str, Any], source: Source) -> None:
    """An Event invocation if the function's resource policy lets the source's service invoke
    it; as on AWS, the source's own call succeeds whatever becomes of the invocation."""
    service, source_arn, account, region = source
    try:
        if not allows(function, service, source_arn, account, region):
            log.warning(
                "%s may not invoke %s (its resource policy): not invoked", service, function
            )
            return
        invoke_event(function, event, region)
    except Exception as exc:
        log.warning("could not invoke %s in Tarn: %s", function, exc)


def s3_notification(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    for record in event_body["Records"]:
        record.setdefault("userIdentity", {"principalId": PRINCIPAL})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        request_id = uuid.uuid4().hex[:16].upper()
        record.setdefault("responseElements", {"x-amz-request-id": request_id})
        record["s3"]["bucket"].setdefault("ownerIdentity", {"principalId": PRINCIPAL})
        obj = record["s3"]["object"]
        obj.setdefault("sequencer", f"{_now_ms():016X}")
        obj["key"] = obj["key"].replace("%2F", "/")  # AWS encodes the key, slashes excepted
    bucket = f"arn:aws:s3:::{event_body['Records'][0]['s3']['bucket']['name']}"
    invoke(fn_arn, event_body, ("s3.amazonaws.com", bucket, account_id, region_name))


def sns_record(
    subscription: Subscription,
    message: str,
    message_id: str,
    subject: str | None,
    attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    topic = subscription.topic.arn
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription.arn,
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic,
            "Subject": subject,
            "Message": message,
            "Timestamp": _iso_now(),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": SNS_CERT_URL,
            "UnsubscribeUrl": f"http://localhost/?Action=Unsubscribe&SubscriptionArn={subscription.arn}",
            "MessageAttributes": attributes or {},
        },
    }


def _sns_publish(original: Callable[..., None]) -> Callable[..., None]:
    def publish(
        self: Subscription,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if self.protocol != "lambda":
            return original(self, message, message_id, subject, message_attributes, *args, **kwargs)
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if kwargs.get("message_structure", args[2] if len(args) > 2 else None) == "json":
            message = self._parse_message_structure(message, self.protocol)
        record = sns_record(self, message, message_id, subject, message_attributes)
        topic = self.topic.arn
        source = ("sns.amazonaws.com", topic, topic.split(":")[4], topic.split(":")[3])
        invoke(self.endpoint, {"Records": [record]}, source)
        return None

    return publish


def send_to_targets(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    """moto hands each bus event to every rule of the bus: a disabled rule takes none, nor does a
    schedule-only one (no pattern), as on AWS."""
    if self.state == "DISABLED":
        return
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return
    if self.event_pattern.matches_event(original_event):  # type: ignore[arg-type]
        deliver(self, original_event, transform_input)


def deliver(rule: Rule, event: dict[str, Any], transform_input: bool = True) -> bool:
    """`event` to each of the rule's targets, whatever its pattern: Tarn invokes the functions,
    moto sends to the rest (queues, log groups, buses); whether it did."""
    functions = [t for t in rule.targets if t["Arn"].split(":")[2] == "lambda"]
    for target in functions:
        source = ("events.amazonaws.com", rule.arn, rule.account_id, rule.region_name)
        invoke(target["Arn"], _target_input(target, event, transform_input), source)
    others = copy.copy(rule)  # moto knows no Lambda targets
    others.targets = [t for t in rule.targets if t not in functions]
    others.event_pattern = EventPattern.load(None)
    if others.targets:
        _MOTO_SEND[0](others, event, transform_input)
    return bool(others.targets)


def _target_input(target: dict[str, Any], event: dict[str, Any], transform: bool) -> Any:
    """What AWS hands the target: the event envelope (ISO time, no moto-only fields), or its
    Input, InputPath or InputTransformer rendering."""
    envelope = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(envelope.get("time"), int | float):
        moment = datetime.datetime.fromtimestamp(envelope["time"], datetime.UTC)
        envelope["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not transform:
        return envelope
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = jsonpath_ng.ext.parse(target["InputPath"]).find(envelope)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=envelope,  # type: ignore[arg-type]
        )
    return envelope


def _iso_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now_ms() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
