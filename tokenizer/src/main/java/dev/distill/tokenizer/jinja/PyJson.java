package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' {@code tojson} filter calls it: ensure_ascii off by default,
 * {@code ", "}/{@code ": "} separators (or {@code ","} with an indent), optional indent and sort_keys.
 */
final class PyJson {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    PyJson(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
    }

    /** The {@code tojson} filter: {@code tojson(ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    static String dumps(Object value, Args a) {
        boolean ascii = a.truthy(0, false);
        Object indentArg = a.get(1, null);
        String indent;
        if (indentArg == null) {
            indent = null;
        } else if (indentArg instanceof String s) {
            indent = s;
        } else if (indentArg instanceof Long || indentArg instanceof Boolean) {
            indent = " ".repeat((int) Math.max(0, PyValues.number(indentArg).longValue()));
        } else {
            throw new TemplateException(
                    "TypeError: tojson indent must be an int or a str, not " + PyValues.typeName(indentArg));
        }
        String item = indent == null ? ", " : ",";
        String key = ": ";
        Object separators = a.get(2, null);
        if (separators != null) {
            List<Object> pair = PyValues.items(separators);
            if (pair.size() != 2 || !(pair.get(0) instanceof String) || !(pair.get(1) instanceof String)) {
                throw new TemplateException("ValueError: tojson separators must be a pair of strings");
            }
            item = (String) pair.get(0);
            key = (String) pair.get(1);
        }
        StringBuilder out = new StringBuilder();
        new PyJson(ascii, indent, item, key, a.truthy(3, false)).write(out, value, 0);
        return out.toString();
    }

    private void newline(StringBuilder out, int level) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(level));
        }
    }

    private void write(StringBuilder out, Object v, int level) {
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (v instanceof Long) {
            out.append(v);
        } else if (v instanceof Double d) {
            out.append(floatText(d));
        } else if (v instanceof String s) {
            string(out, s);
        } else if (v instanceof List || v instanceof PyTuple) {
            List<Object> items = PyValues.items(v);
            if (items.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append('[');
            for (int i = 0; i < items.size(); i++) {
                out.append(i == 0 ? "" : itemSeparator);
                newline(out, level + 1);
                write(out, items.get(i), level + 1);
            }
            newline(out, level);
            out.append(']');
        } else if (v instanceof Map<?, ?> map) {
            object(out, map, level);
        } else {
            throw new TemplateException(
                    "TypeError: Object of type " + PyValues.typeName(v) + " is not JSON serializable");
        }
    }

    private void object(StringBuilder out, Map<?, ?> map, int level) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>();
        map.forEach((k, val) -> entries.add(Map.entry(key(k), val == null ? JsonNull.INSTANCE : val)));
        if (sortKeys) {
            entries.sort(Comparator.comparing(Map.Entry::getKey));
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            out.append(first ? "" : itemSeparator);
            first = false;
            newline(out, level + 1);
            string(out, e.getKey());
            out.append(keySeparator);
            write(out, e.getValue() == JsonNull.INSTANCE ? null : e.getValue(), level + 1);
        }
        newline(out, level);
        out.append('}');
    }

    /** Map.entry refuses null values; this stands for None inside the entry list. */
    private enum JsonNull {
        INSTANCE
    }

    private static String key(Object k) {
        if (k instanceof String s) {
            return s;
        }
        if (k == null) {
            return "null";
        }
        if (k instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (k instanceof Long) {
            return k.toString();
        }
        if (k instanceof Double d) {
            return floatText(d);
        }
        throw new TemplateException(
                "TypeError: keys must be str, int, float, bool or None, not " + PyValues.typeName(k));
    }

    private static String floatText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return PyFloat.repr(d);
    }

    private void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
