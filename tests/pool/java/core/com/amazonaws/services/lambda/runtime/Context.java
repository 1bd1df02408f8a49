package com.amazonaws.services.lambda.runtime;

/** aws-lambda-java-core's Context, as a user's jar brings it (the parts the tests use). */
public interface Context {
    String getAwsRequestId();
    String getLogGroupName();
    String getLogStreamName();
    String getFunctionName();
    String getFunctionVersion();
    String getInvokedFunctionArn();
    int getRemainingTimeInMillis();
    int getMemoryLimitInMB();
    LambdaLogger getLogger();
}
