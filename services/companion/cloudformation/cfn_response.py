"""The `cfnresponse` (Python) and `cfn-response` (Node.js) modules that CloudFormation puts beside
a function's inline ZipFile code, for custom resources to answer with; the same calls as AWS's:
`send(event, context, status, data, physical_resource_id, no_echo, reason)`.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-lambda-function-code-cfnresponsemodule.html
"""

from __future__ import annotations

PYTHON = '''"""CloudFormation's cfnresponse, as Tarn provides it."""
import json
import urllib.request

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False,
         reason=None):
    body = json.dumps({
        "Status": responseStatus,
        "Reason": reason or "See the details in CloudWatch Log Stream: " + context.log_stream_name,
        "PhysicalResourceId": physicalResourceId or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    }).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    try:
        with urllib.request.urlopen(request) as response:
            print("Status code:", response.status)
    except Exception as exc:
        print("send(..) failed executing http.request(..):", exc)
'''

NODE = """// CloudFormation's cfn-response, as Tarn provides it.
exports.SUCCESS = "SUCCESS";
exports.FAILED = "FAILED";

exports.send = function (event, context, responseStatus, responseData, physicalResourceId,
                         noEcho, reason) {
  return new Promise((resolve) => {
    const body = JSON.stringify({
      Status: responseStatus,
      Reason: reason || "See the details in CloudWatch Log Stream: " + context.logStreamName,
      PhysicalResourceId: physicalResourceId || context.logStreamName,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: noEcho || false,
      Data: responseData,
    });
    const url = new URL(event.ResponseURL);
    const client = require(url.protocol === "https:" ? "https" : "http");
    const request = client.request(url, {
      method: "PUT",
      headers: { "content-type": "", "content-length": Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on("end", resolve);
    });
    request.on("error", (error) => {
      console.log("send(..) failed executing https.request(..): " + error);
      resolve();
    });
    request.write(body);
    request.end();
  });
};
"""
