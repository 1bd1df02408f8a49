package tarn.lambda;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tarn's Java runtime client: loads `package.Class::method` (or a RequestHandler /
 * RequestStreamHandler `package.Class`) from the task root and its lib/*.jar, and serves the
 * Runtime API. aws-lambda-java-core comes with the user's code: its Context and LambdaLogger
 * are implemented here by reflection (proxies), so any version of it works.
 */
public final class Bootstrap {
    private static final String CONTENT = "application/json";
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final String api = "http://" + System.getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";
    private Object target;
    private Method method;

    public static void main(String[] args) throws Exception {
        Bootstrap bootstrap = new Bootstrap();
        try {
            bootstrap.init(System.getenv("_HANDLER"));
        } catch (Throwable error) {
            Throwable cause = unwrap(error);
            bootstrap.post("/init/error", Json.write(errorBody(cause)), cause.getClass().getName());
            System.exit(1);
        }
        while (true) bootstrap.next();
    }

    private void init(String handler) throws Exception {
        ClassLoader loader = new URLClassLoader(classpath(), Bootstrap.class.getClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        String[] parts = handler.split("::", 2);
        Class<?> type;
        try {
            type = Class.forName(parts[0], true, loader);
        } catch (ClassNotFoundException e) {
            throw new ClassNotFoundException("Class not found: " + parts[0], e);
        }
        method = parts.length == 2 ? named(type, parts[1]) : implemented(type);
        if (!Modifier.isStatic(method.getModifiers())) target = type.getDeclaredConstructor().newInstance();
        method.setAccessible(true);
    }

    /** The task root, its lib/*.jar, and each CLASSPATH folder (the layers' java/lib). */
    private static URL[] classpath() throws Exception {
        List<URL> urls = new ArrayList<>();
        String root = System.getenv().getOrDefault("LAMBDA_TASK_ROOT", ".");
        String layers = System.getenv().getOrDefault("CLASSPATH", "/opt/java/lib");
        List<String> folders = new ArrayList<>(List.of(root + "/lib"));
        for (String folder : layers.split(":")) if (!folder.isEmpty()) folders.add(folder);
        urls.add(new File(root).toURI().toURL());
        for (String folder : folders) {
            File[] jars = new File(folder).listFiles((dir, name) -> name.endsWith(".jar"));
            if (jars == null) continue;
            java.util.Arrays.sort(jars);
            for (File jar : jars) urls.add(jar.toURI().toURL());
        }
        return urls.toArray(new URL[0]);
    }

    private static Method named(Class<?> type, String name) throws NoSuchMethodException {
        Method best = null;
        for (Method m : type.getMethods()) {
            if (!m.getName().equals(name) || m.isBridge() || m.getParameterCount() > 3) continue;
            if (best == null || m.getParameterCount() > best.getParameterCount()) best = m;
        }
        if (best == null) throw new NoSuchMethodException("No public method named " + name + " with appropriate method signature found on " + type);
        return best;
    }

    private static Method implemented(Class<?> type) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass())
            for (Class<?> face : c.getInterfaces())
                if (face.getName().endsWith(".RequestHandler") || face.getName().endsWith(".RequestStreamHandler"))
                    return named(type, "handleRequest");
        throw new NoSuchMethodException("Class " + type.getName() + " does not implement RequestHandler or RequestStreamHandler with appropriate type parameters");
    }

    private void next() throws Exception {
        HttpResponse<byte[]> invocation = http.send(
                HttpRequest.newBuilder(URI.create(api + "/invocation/next")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        String id = invocation.headers().firstValue("lambda-runtime-aws-request-id").orElse("");
        Map<String, String> headers = new LinkedHashMap<>();
        invocation.headers().map().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
        System.setProperty("com.amazonaws.xray.traceHeader", headers.getOrDefault("lambda-runtime-trace-id", ""));
        try {
            byte[] result = invoke(invocation.body(), headers);
            post("/invocation/" + id + "/response", new String(result, StandardCharsets.UTF_8), null);
        } catch (Throwable error) {
            Throwable cause = unwrap(error);
            cause.printStackTrace(System.out);
            post("/invocation/" + id + "/error", Json.write(errorBody(cause)), cause.getClass().getName());
        }
    }

    private byte[] invoke(byte[] payload, Map<String, String> headers) throws Exception {
        Class<?>[] types = method.getParameterTypes();
        Type[] generic = method.getGenericParameterTypes();
        Object[] args = new Object[types.length];
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        boolean streams = types.length >= 2 && types[0] == InputStream.class;
        for (int i = 0; i < types.length; i++) {
            if (types[i].isInterface() && types[i].getName().endsWith(".Context")) args[i] = context(types[i], headers);
            else if (types[i] == InputStream.class) args[i] = new ByteArrayInputStream(payload);
            else if (types[i] == OutputStream.class) args[i] = output;
            else args[i] = Json.convert(Json.parse(new String(payload, StandardCharsets.UTF_8)), generic[i]);
        }
        Object result = method.invoke(target, args);
        System.out.flush();
        if (streams) return output.toByteArray();
        return Json.write(result).getBytes(StandardCharsets.UTF_8);
    }

    /** The user's Context interface, answered from the invocation's headers. */
    private Object context(Class<?> contextType, Map<String, String> headers) {
        long deadline = Long.parseLong(headers.getOrDefault("lambda-runtime-deadline-ms", "0"));
        Map<String, String> env = System.getenv();
        return Proxy.newProxyInstance(contextType.getClassLoader(), new Class<?>[] {contextType}, (proxy, m, a) -> {
            switch (m.getName()) {
                case "getAwsRequestId": return headers.get("lambda-runtime-aws-request-id");
                case "getInvokedFunctionArn": return headers.get("lambda-runtime-invoked-function-arn");
                case "getLogGroupName": return env.get("AWS_LAMBDA_LOG_GROUP_NAME");
                case "getLogStreamName": return env.get("AWS_LAMBDA_LOG_STREAM_NAME");
                case "getFunctionName": return env.get("AWS_LAMBDA_FUNCTION_NAME");
                case "getFunctionVersion": return env.get("AWS_LAMBDA_FUNCTION_VERSION");
                case "getMemoryLimitInMB": return Integer.parseInt(env.getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"));
                case "getRemainingTimeInMillis": return (int) Math.max(0, deadline - System.currentTimeMillis());
                case "getLogger": return logger(m.getReturnType());
                case "toString": return "Context(" + headers.get("lambda-runtime-aws-request-id") + ")";
                case "hashCode": return System.identityHashCode(proxy);
                case "equals": return proxy == a[0];
                default: return null; // getIdentity, getClientContext: none here
            }
        });
    }

    private static Object logger(Class<?> loggerType) {
        return Proxy.newProxyInstance(loggerType.getClassLoader(), new Class<?>[] {loggerType}, (proxy, m, a) -> {
            if (m.getName().equals("log") && a != null && a.length > 0) {
                Object message = a[0];
                System.out.print(message instanceof byte[] ? new String((byte[]) message, StandardCharsets.UTF_8) : String.valueOf(message));
                System.out.flush();
            }
            return m.getName().equals("hashCode") ? System.identityHashCode(proxy) : null;
        });
    }

    private static Throwable unwrap(Throwable error) {
        while (error instanceof InvocationTargetException && error.getCause() != null) error = error.getCause();
        return error;
    }

    /** AWS's error shape for Java: errorMessage, errorType, stackTrace, and cause. */
    private static Map<String, Object> errorBody(Throwable error) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("errorMessage", error.getMessage() != null ? error.getMessage() : error.getClass().getName());
        body.put("errorType", error.getClass().getName());
        List<String> trace = new ArrayList<>();
        for (StackTraceElement frame : error.getStackTrace()) {
            String at = frame.getClassName();
            if (at.startsWith("tarn.lambda.") || at.startsWith("jdk.internal.reflect.") || at.startsWith("java.lang.reflect.")) break;
            trace.add(frame.toString());
        }
        body.put("stackTrace", trace);
        if (error.getCause() != null && error.getCause() != error) body.put("cause", errorBody(error.getCause()));
        return body;
    }

    private void post(String path, String body, String errorType) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(api + path))
                .header("Content-Type", CONTENT)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (errorType != null) request.header("Lambda-Runtime-Function-Error-Type", errorType);
        http.send(request.build(), HttpResponse.BodyHandlers.discarding());
    }
}
