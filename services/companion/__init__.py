"""The companion AWS endpoint as Tarn's own process: moto's server, with hooks that send
everything about Lambda (CloudFormation resources, S3/SNS/EventBridge triggers, stray Lambda API
requests) to Tarn, and snapshots that keep its state on the data dir across restarts."""
