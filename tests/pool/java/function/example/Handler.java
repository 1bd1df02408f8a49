package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/** The runtime contract's test function (tests/pool/runtime_checks.py) as a RequestHandler. */
public class Handler implements RequestHandler<Map<String, Object>, Object> {
    public Handler() {
        if (System.getenv("TARN_TEST_INIT_FAIL") != null) throw new IllegalStateException("init failed");
    }

    @Override
    public Object handleRequest(Map<String, Object> event, Context context) {
        Object action = event == null ? null : event.get("action");
        if ("context".equals(action)) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("function_name", context.getFunctionName());
            out.put("request_id", context.getAwsRequestId());
            out.put("arn", context.getInvokedFunctionArn());
            out.put("remaining_ms", context.getRemainingTimeInMillis());
            out.put("memory", context.getMemoryLimitInMB());
            return out;
        }
        if ("environ".equals(action)) return System.getenv();
        if ("raise".equals(action)) throw new IllegalArgumentException("bad input");
        if ("sleep".equals(action)) {
            try {
                Thread.sleep(((Number) event.get("seconds")).longValue() * 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        context.getLogger().log("handled " + event.size() + " keys\n");
        return event;
    }
}
