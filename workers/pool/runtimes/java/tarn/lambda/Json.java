package tarn.lambda;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small JSON codec: text to Maps, Lists and scalars, those to POJOs, and any of them back. */
final class Json {
    private final String text;
    private int at;

    private Json(String text) {
        this.text = text;
    }

    static Object parse(String text) {
        Json json = new Json(text);
        json.space();
        Object value = json.value();
        json.space();
        if (json.at != text.length()) throw new IllegalArgumentException("trailing data at " + json.at);
        return value;
    }

    private void space() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
    }

    private Object value() {
        if (at >= text.length()) throw new IllegalArgumentException("unexpected end of JSON");
        char c = text.charAt(at);
        switch (c) {
            case '{': return object();
            case '[': return array();
            case '"': return string();
            case 't': return literal("true", Boolean.TRUE);
            case 'f': return literal("false", Boolean.FALSE);
            case 'n': return literal("null", null);
            default: return number();
        }
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, at)) throw new IllegalArgumentException("bad JSON at " + at);
        at += word.length();
        return value;
    }

    private Map<String, Object> object() {
        Map<String, Object> map = new LinkedHashMap<>();
        at++;
        space();
        if (text.charAt(at) == '}') { at++; return map; }
        while (true) {
            space();
            String key = string();
            space();
            expect(':');
            space();
            map.put(key, value());
            space();
            if (text.charAt(at) == ',') { at++; continue; }
            expect('}');
            return map;
        }
    }

    private List<Object> array() {
        List<Object> list = new ArrayList<>();
        at++;
        space();
        if (text.charAt(at) == ']') { at++; return list; }
        while (true) {
            space();
            list.add(value());
            space();
            if (text.charAt(at) == ',') { at++; continue; }
            expect(']');
            return list;
        }
    }

    private void expect(char c) {
        if (at >= text.length() || text.charAt(at) != c)
            throw new IllegalArgumentException("expected '" + c + "' at " + at);
        at++;
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (true) {
            char c = text.charAt(at++);
            if (c == '"') return out.toString();
            if (c != '\\') { out.append(c); continue; }
            char e = text.charAt(at++);
            switch (e) {
                case 'n': out.append('\n'); break;
                case 't': out.append('\t'); break;
                case 'r': out.append('\r'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'u': out.append((char) Integer.parseInt(text.substring(at, at + 4), 16)); at += 4; break;
                default: out.append(e);
            }
        }
    }

    private Number number() {
        int start = at;
        while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
        String digits = text.substring(start, at);
        if (digits.isEmpty()) throw new IllegalArgumentException("bad JSON at " + start);
        if (digits.matches("-?\\d+")) {
            BigInteger big = new BigInteger(digits);
            if (big.bitLength() < 32) return big.intValue();
            return big.bitLength() < 64 ? (Number) big.longValue() : big;
        }
        return Double.parseDouble(digits);
    }

    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        if (value == null) out.append("null");
        else if (value instanceof String || value instanceof Character || value instanceof Enum) quote(value.toString(), out);
        else if (value instanceof Boolean) out.append(value);
        else if (value instanceof Double && ((Double) value).isNaN()) out.append("null");
        else if (value instanceof Number) out.append(value instanceof BigDecimal ? ((BigDecimal) value).toPlainString() : value.toString());
        else if (value instanceof Map) writeMap((Map<?, ?>) value, out);
        else if (value instanceof Collection) writeList(new ArrayList<>((Collection<?>) value), out);
        else if (value.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) items.add(Array.get(value, i));
            writeList(items, out);
        } else writeMap(properties(value), out);
    }

    private static void writeMap(Map<?, ?> map, StringBuilder out) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            if (!first) out.append(',');
            first = false;
            quote(String.valueOf(entry.getKey()), out);
            out.append(':');
            write(entry.getValue(), out);
        }
        out.append('}');
    }

    private static void writeList(List<?> list, StringBuilder out) {
        out.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) out.append(',');
            write(list.get(i), out);
        }
        out.append(']');
    }

    private static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        out.append('"');
    }

    /** A POJO's properties as its getters (getX, isX) and public fields show them. */
    private static Map<String, Object> properties(Object pojo) {
        Map<String, Object> map = new LinkedHashMap<>();
        try {
            for (Method m : pojo.getClass().getMethods()) {
                String name = m.getName();
                if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || name.equals("getClass")) continue;
                String prop = name.startsWith("get") && name.length() > 3 ? name.substring(3)
                        : name.startsWith("is") && name.length() > 2 && m.getReturnType() == boolean.class ? name.substring(2) : null;
                if (prop != null) map.put(Character.toLowerCase(prop.charAt(0)) + prop.substring(1), m.invoke(pojo));
            }
            for (Field f : pojo.getClass().getFields())
                if (!Modifier.isStatic(f.getModifiers())) map.putIfAbsent(f.getName(), f.get(pojo));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return map;
    }

    /** `value` (as parse gives it) as an instance of `type`: a POJO, Map, List, scalar. */
    static Object convert(Object value, Type type) throws ReflectiveOperationException {
        Class<?> raw = rawClass(type);
        if (value == null || raw == Object.class) return value;
        if (raw == String.class) return value instanceof String ? value : write(value);
        if (raw.isPrimitive() || Number.class.isAssignableFrom(raw) || raw == Boolean.class) return scalar(value, raw);
        if (Map.class.isAssignableFrom(raw)) {
            Map<String, Object> map = new LinkedHashMap<>();
            Type item = argument(type, 1);
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) map.put((String) e.getKey(), convert(e.getValue(), item));
            return map;
        }
        if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
            Type item = raw.isArray() ? raw.getComponentType() : argument(type, 0);
            List<Object> list = new ArrayList<>();
            for (Object v : (List<?>) value) list.add(convert(v, item));
            if (!raw.isArray()) return list;
            Object array = Array.newInstance(raw.getComponentType(), list.size());
            for (int i = 0; i < list.size(); i++) Array.set(array, i, list.get(i));
            return array;
        }
        if (raw.isEnum()) return raw.getMethod("valueOf", String.class).invoke(null, value);
        return pojo((Map<?, ?>) value, raw);
    }

    private static Object pojo(Map<?, ?> values, Class<?> raw) throws ReflectiveOperationException {
        Object pojo = raw.getDeclaredConstructor().newInstance();
        for (Map.Entry<?, ?> e : values.entrySet()) {
            String key = (String) e.getKey();
            String setter = "set" + Character.toUpperCase(key.charAt(0)) + key.substring(1);
            Method found = null;
            for (Method m : raw.getMethods()) if (m.getName().equals(setter) && m.getParameterCount() == 1) found = m;
            if (found != null) { found.invoke(pojo, convert(e.getValue(), found.getGenericParameterTypes()[0])); continue; }
            try {
                Field f = raw.getField(key);
                f.set(pojo, convert(e.getValue(), f.getGenericType()));
            } catch (NoSuchFieldException ignored) {
                // an unknown property is left out, as AWS's serializer does
            }
        }
        return pojo;
    }

    private static Object scalar(Object value, Class<?> raw) {
        if (raw == boolean.class || raw == Boolean.class) return value;
        Number n = (Number) value;
        if (raw == int.class || raw == Integer.class) return n.intValue();
        if (raw == long.class || raw == Long.class) return n.longValue();
        if (raw == double.class || raw == Double.class) return n.doubleValue();
        if (raw == float.class || raw == Float.class) return n.floatValue();
        if (raw == short.class || raw == Short.class) return n.shortValue();
        if (raw == byte.class || raw == Byte.class) return n.byteValue();
        return n;
    }

    private static Class<?> rawClass(Type type) {
        if (type instanceof Class) return (Class<?>) type;
        if (type instanceof ParameterizedType) return (Class<?>) ((ParameterizedType) type).getRawType();
        return Object.class;
    }

    private static Type argument(Type type, int index) {
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            if (index < args.length) return args[index];
        }
        return Object.class;
    }
}
