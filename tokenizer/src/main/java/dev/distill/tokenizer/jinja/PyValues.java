package dev.distill.tokenizer.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python value semantics for template values. Values are {@code null} (None), Boolean, Long (int),
 * Double (float), String, List, {@link PyTuple}, Map, {@link Undefined} and the other small types of
 * this package.
 */
final class PyValues {
    private PyValues() {}

    /** Converts caller data (messages, special tokens) to template values: Integer to Long, arrays to lists. */
    static Object fromJava(Object value) {
        if (value == null
                || value instanceof String
                || value instanceof Boolean
                || value instanceof Long
                || value instanceof Double) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Float) {
            return (double) (Float) value;
        }
        if (value instanceof BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        if (value instanceof BigDecimal dec) {
            return dec.doubleValue();
        }
        if (value instanceof CharSequence chars) {
            return chars.toString();
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(fromJava(k), fromJava(v)));
            return out;
        }
        if (value instanceof Collection<?> items) {
            List<Object> out = new ArrayList<>();
            items.forEach(v -> out.add(fromJava(v)));
            return out;
        }
        if (value instanceof Object[] array) {
            return fromJava(Arrays.asList(array));
        }
        throw new TemplateException(
                "unsupported template value of Java type " + value.getClass().getName());
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0.0;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        if (v instanceof PyTuple t) {
            return !t.items().isEmpty();
        }
        if (v instanceof DictView view) {
            return !view.items().isEmpty();
        }
        if (v instanceof PyRange r) {
            return !r.toList().isEmpty();
        }
        return true;
    }

    /** Python's type name, as used in error messages. */
    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        }
        if (v instanceof Boolean) {
            return "bool";
        }
        if (v instanceof Long) {
            return "int";
        }
        if (v instanceof Double) {
            return "float";
        }
        if (v instanceof String) {
            return "str";
        }
        if (v instanceof List) {
            return "list";
        }
        if (v instanceof Map) {
            return "dict";
        }
        if (v instanceof PyTuple) {
            return "tuple";
        }
        if (v instanceof PyRange) {
            return "range";
        }
        if (v instanceof DictView view) {
            return "dict_" + view.kind();
        }
        if (v instanceof Generator) {
            return "generator";
        }
        if (v instanceof Namespace) {
            return "Namespace";
        }
        if (v instanceof LoopContext) {
            return "LoopContext";
        }
        if (v instanceof Undefined) {
            return "Undefined";
        }
        if (v instanceof JinjaCallable) {
            return "function";
        }
        return v.getClass().getSimpleName();
    }

    /** How Jinja names an object in "has no attribute" messages: {@code dict object}, {@code None}. */
    static String objectDescription(Object v) {
        return v == null ? "None" : typeName(v) + " object";
    }

    /** Python's {@code str(v)}, as {@code {{ v }}} prints it; an undefined value prints as nothing. */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Double d) {
            return PyFloat.repr(d);
        }
        if (v instanceof String s) {
            return reprString(s);
        }
        if (v instanceof List<?> list) {
            return joinRepr("[", list, "]");
        }
        if (v instanceof PyTuple t) {
            return t.items().size() == 1 ? "(" + repr(t.items().get(0)) + ",)" : joinRepr("(", t.items(), ")");
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder out = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(first ? "" : ", ")
                        .append(repr(e.getKey()))
                        .append(": ")
                        .append(repr(e.getValue()));
                first = false;
            }
            return out.append('}').toString();
        }
        if (v instanceof DictView view) {
            return "dict_" + view.kind() + "(" + joinRepr("[", view.items(), "]") + ")";
        }
        if (v instanceof Undefined || v instanceof Namespace || v instanceof PyRange) {
            return v.toString();
        }
        throw new TemplateException("cannot print a " + typeName(v)
                + " object (Python would print its memory address); convert it first, e.g. with |list");
    }

    private static String joinRepr(String open, List<?> items, String close) {
        StringBuilder out = new StringBuilder(open);
        for (int i = 0; i < items.size(); i++) {
            out.append(i == 0 ? "" : ", ").append(repr(items.get(i)));
        }
        return out.append(close).toString();
    }

    private static String reprString(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder().append(quote);
        s.codePoints().forEach(cp -> {
            if (cp == quote || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (isPrintable(cp)) {
                out.appendCodePoint(cp);
            } else if (cp < 0x100) {
                out.append(String.format(Locale.ROOT, "\\x%02x", cp));
            } else if (cp < 0x10000) {
                out.append(String.format(Locale.ROOT, "\\u%04x", cp));
            } else {
                out.append(String.format(Locale.ROOT, "\\U%08x", cp));
            }
        });
        return out.append(quote).toString();
    }

    /** Python's {@code str.isprintable()} for one code point. */
    private static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
            case Character.SPACE_SEPARATOR:
                return false;
            default:
                return true;
        }
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    /** A number (bool counts as int) widened to Long or Double. */
    static Number number(Object v) {
        return v instanceof Boolean b ? (Long) (b ? 1L : 0L) : (Number) v;
    }

    /** Python's {@code ==}. */
    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            Number x = number(a);
            Number y = number(b);
            if (x instanceof Long && y instanceof Long) {
                return x.longValue() == y.longValue();
            }
            return x.doubleValue() == y.doubleValue();
        }
        if (a instanceof String || b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            return sequenceEq(x, y);
        }
        if (a instanceof PyTuple x && b instanceof PyTuple y) {
            return sequenceEq(x.items(), y.items());
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof PyRange || b instanceof PyRange) {
            return a.equals(b);
        }
        return false;
    }

    private static boolean sequenceEq(List<?> x, List<?> y) {
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            if (!eq(x.get(i), y.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Python's ordering ({@code <}), for numbers, strings and sequences; {@code op} names the operator in errors. */
    static int compare(Object a, Object b, String op) {
        if (a instanceof Undefined u) {
            throw u.error();
        }
        if (b instanceof Undefined u) {
            throw u.error();
        }
        if (isNumber(a) && isNumber(b)) {
            Number x = number(a);
            Number y = number(b);
            return x instanceof Long && y instanceof Long
                    ? Long.compare(x.longValue(), y.longValue())
                    : Double.compare(x.doubleValue(), y.doubleValue());
        }
        if (a instanceof String x && b instanceof String y) {
            return compareCodePoints(x, y);
        }
        List<?> xs = a instanceof PyTuple t ? t.items() : a instanceof List<?> l ? l : null;
        List<?> ys = b instanceof PyTuple t ? t.items() : b instanceof List<?> l ? l : null;
        if (xs != null && ys != null && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            for (int i = 0; i < Math.min(xs.size(), ys.size()); i++) {
                if (!eq(xs.get(i), ys.get(i))) {
                    return compare(xs.get(i), ys.get(i), op);
                }
            }
            return Integer.compare(xs.size(), ys.size());
        }
        throw new TemplateException("TypeError: '" + op + "' not supported between instances of '" + typeName(a)
                + "' and '" + typeName(b) + "'");
    }

    private static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Boolean.compare(i < x.length(), j < y.length());
    }

    /** Python's {@code len(v)}; undefined has length 0. */
    static long len(Object v) {
        if (v instanceof String s) {
            return PyStrings.length(s);
        }
        if (v instanceof Collection<?> c) {
            return c.size();
        }
        if (v instanceof Map<?, ?> m) {
            return m.size();
        }
        if (v instanceof PyTuple t) {
            return t.items().size();
        }
        if (v instanceof DictView view) {
            return view.items().size();
        }
        if (v instanceof PyRange r) {
            return r.toList().size();
        }
        if (v instanceof Undefined) {
            return 0;
        }
        throw new TemplateException("TypeError: object of type '" + typeName(v) + "' has no len()");
    }

    static boolean isIterable(Object v) {
        return v instanceof String
                || v instanceof List
                || v instanceof Map
                || v instanceof PyTuple
                || v instanceof DictView
                || v instanceof Generator
                || v instanceof PyRange
                || v instanceof Undefined;
    }

    /** The items Python's {@code iter(v)} yields: characters of a string, keys of a dict; undefined is empty. */
    static List<Object> items(Object v) {
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
            return out;
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof PyTuple t) {
            return t.items();
        }
        if (v instanceof DictView view) {
            return view.items();
        }
        if (v instanceof Generator g) {
            return g.drain();
        }
        if (v instanceof PyRange r) {
            return r.toList();
        }
        if (v instanceof Undefined) {
            return List.of();
        }
        throw new TemplateException("TypeError: '" + typeName(v) + "' object is not iterable");
    }
}
