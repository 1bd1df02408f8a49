//! The runtime contract test function (tests/pool/runtime_checks.py) on the lambda_runtime
//! crate: echo, context, environ, raise, sleep; init fails when TARN_TEST_INIT_FAIL is set.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    match payload.get("action").and_then(Value::as_str) {
        Some("context") => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
            Ok(json!({
                "function_name": context.env_config.function_name,
                "request_id": context.request_id,
                "arn": context.invoked_function_arn,
                "remaining_ms": context.deadline.saturating_sub(now),
                "memory": context.env_config.memory,
                "language": "rust-lambda_runtime",
            }))
        }
        Some("environ") => Ok(Value::Object(
            std::env::vars().map(|(k, v)| (k, Value::String(v))).collect(),
        )),
        Some("raise") => Err("bad input".into()),
        Some("sleep") => {
            let seconds = payload.get("seconds").and_then(Value::as_f64).unwrap_or(0.0);
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Ok(json!("woke"))
        }
        _ => Ok(payload),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::var_os("TARN_TEST_INIT_FAIL").is_some() {
        return Err("init failed".into());
    }
    lambda_runtime::run(service_fn(handler)).await
}
