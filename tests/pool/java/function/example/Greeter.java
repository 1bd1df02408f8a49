package example;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Plain methods taking POJOs and Strings, and a stream handler. */
public class Greeter {
    public static class Person {
        private String name;
        public List<String> tags;

        public String getName() { return name; }
        public void setName(String name) { this.name = name; }
    }

    public static class Greeting {
        public final String message;
        private final int length;

        Greeting(String message) { this.message = message; this.length = message.length(); }
        public int getLength() { return length; }
    }

    public Greeting greet(Person person, Context context) {
        return new Greeting("hello " + person.getName() + " " + person.tags + " from " + context.getFunctionName());
    }

    public static String shout(String text) {
        return text.toUpperCase();
    }

    public void stream(InputStream input, OutputStream output, Context context) throws IOException {
        String text = new String(input.readAllBytes(), StandardCharsets.UTF_8);
        output.write(("{\"streamed\":" + text + "}").getBytes(StandardCharsets.UTF_8));
    }
}
