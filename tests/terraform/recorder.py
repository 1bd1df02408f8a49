"""A Node.js function package for the Terraform tests: it records every event it gets as a JSON
file in a folder named at build time, so the HCL needs no environment block.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.functions import zip_of

HANDLER = """\
const fs = require("fs");
const path = require("path");
const RECORD_TO = %s;
let greeting = () => "hello";
try { greeting = require("greeting").greeting; } catch (e) {}

exports.handler = async (event, context) => {
  const file = path.join(RECORD_TO, context.awsRequestId + ".json");
  fs.writeFileSync(file + ".part", JSON.stringify({ event, arn: context.invokedFunctionArn }));
  fs.renameSync(file + ".part", file);
  return { greeting: greeting(), records: (event.Records || []).length };
};
"""

LAYER_MODULE = 'exports.greeting = () => "hello from the layer";\n'


def write_function_zip(path: Path, record_to: Path) -> None:
    """`index.handler` for nodejs20.x, recording into `record_to`."""
    record_to.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_of({"index.js": HANDLER % json.dumps(str(record_to))}))


def write_layer_zip(path: Path) -> None:
    """A layer whose `greeting` module the function picks up from /opt/nodejs/node_modules."""
    path.write_bytes(zip_of({"nodejs/node_modules/greeting/index.js": LAYER_MODULE}))


def recorded(record_to: Path) -> list[dict[str, Any]]:
    """Every call recorded so far: {"event": ..., "arn": invoked function ARN}."""
    return [json.loads(file.read_text()) for file in sorted(record_to.glob("*.json"))]
