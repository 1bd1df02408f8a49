"""What invokes Tarn's functions from the companion's services: S3 notifications, SNS
subscriptions, EventBridge rules and Logs subscription filters (deliveries), the resource
policy check before each (policies), and EventBridge schedules (schedules, scheduler)."""
