package dev.distill.tokenizer.jinja;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/** Jinja's filters ({@code x|trim}, {@code xs|selectattr(...)}), plus transformers' {@code tojson}. */
final class Filters {
    private Filters() {}

    /** One filter: the value on the left of {@code |}, then the filter's own arguments. */
    @FunctionalInterface
    interface Filter {
        Object apply(Object value, List<Object> args, Map<String, Object> kwargs);
    }

    /** Jinja built-ins this engine lacks: named in errors as unsupported rather than unknown. */
    private static final Set<String> JINJA_ONLY = Set.of(
            "attr",
            "batch",
            "center",
            "e",
            "escape",
            "filesizeformat",
            "forceescape",
            "format",
            "groupby",
            "pprint",
            "random",
            "slice",
            "striptags",
            "truncate",
            "urlencode",
            "urlize",
            "wordcount",
            "wordwrap",
            "xmlattr");

    private static final Map<String, Filter> FILTERS = new HashMap<>();

    static {
        simple("abs", Filters::abs);
        simple("capitalize", v -> PyStrings.capitalize(PyValues.str(v)));
        simple("upper", v -> PyStrings.upper(PyValues.str(v)));
        simple("lower", v -> PyStrings.lower(PyValues.str(v)));
        simple("title", v -> PyStrings.jinjaTitle(PyValues.str(v)));
        simple("string", PyValues::str);
        simple("safe", PyValues::str);
        simple("length", PyValues::len);
        simple("count", PyValues::len);
        simple("list", v -> new ArrayList<>(PyValues.items(v)));
        FILTERS.put(
                "trim",
                (v, args, kw) -> PyStrings.strip(
                        PyValues.str(v), Args.bind("trim", args, kw, "chars").string(0, null), true, true));
        FILTERS.put("default", Filters::defaultValue);
        FILTERS.put("d", Filters::defaultValue);
        FILTERS.put("first", Filters::first);
        FILTERS.put("last", Filters::last);
        FILTERS.put("join", Filters::join);
        FILTERS.put("items", Filters::itemsFilter);
        FILTERS.put("dictsort", Filters::dictsort);
        FILTERS.put("replace", Filters::replace);
        FILTERS.put("int", Filters::toInt);
        FILTERS.put("float", Filters::toFloat);
        FILTERS.put("round", Filters::round);
        FILTERS.put("indent", Filters::indent);
        FILTERS.put(
                "tojson",
                (v, args, kw) -> PyJson.dumps(
                        v, Args.bind("tojson", args, kw, "ensure_ascii", "indent", "separators", "sort_keys")));
        FILTERS.put("map", Filters::map);
        FILTERS.put("select", (v, args, kw) -> select(v, args, kw, false, true));
        FILTERS.put("reject", (v, args, kw) -> select(v, args, kw, false, false));
        FILTERS.put("selectattr", (v, args, kw) -> select(v, args, kw, true, true));
        FILTERS.put("rejectattr", (v, args, kw) -> select(v, args, kw, true, false));
        FILTERS.put("sort", Filters::sort);
        FILTERS.put("unique", Filters::unique);
        FILTERS.put("reverse", Filters::reverse);
        FILTERS.put("sum", Filters::sum);
        FILTERS.put("min", (v, args, kw) -> extreme("min", v, args, kw, -1));
        FILTERS.put("max", (v, args, kw) -> extreme("max", v, args, kw, 1));
    }

    /** Fails at compile time, as Jinja does, for a filter it does not know or this engine does not support. */
    static void check(String name) {
        if (JINJA_ONLY.contains(name)) {
            throw new TemplateException("filter '" + name + "' is not supported by this template engine");
        }
        if (!FILTERS.containsKey(name)) {
            throw new TemplateException("no filter named '" + name + "'");
        }
    }

    static Object apply(String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        check(name);
        return FILTERS.get(name).apply(value, args, kwargs);
    }

    /** A filter that takes no arguments of its own. */
    private static void simple(String name, Function<Object, Object> fn) {
        FILTERS.put(name, (v, args, kw) -> {
            Args.bind(name, args, kw);
            return fn.apply(v);
        });
    }

    private static Object abs(Object v) {
        if (v instanceof Double d) {
            return Math.abs(d);
        }
        if (PyValues.isNumber(v)) {
            return Math.abs(PyValues.number(v).longValue());
        }
        if (v instanceof Undefined u) {
            throw u.error();
        }
        throw new TemplateException("TypeError: bad operand type for abs(): '" + PyValues.typeName(v) + "'");
    }

    private static Object defaultValue(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("default", args, kw, "default_value", "boolean");
        boolean useDefault = v instanceof Undefined || (a.truthy(1, false) && !PyValues.truthy(v));
        return useDefault ? a.get(0, "") : v;
    }

    private static Object first(Object v, List<Object> args, Map<String, Object> kw) {
        Args.bind("first", args, kw);
        if (v instanceof Undefined u) {
            throw u.error();
        }
        List<Object> items = PyValues.items(v);
        return items.isEmpty() ? Undefined.because("No first item, sequence was empty.") : items.get(0);
    }

    private static Object last(Object v, List<Object> args, Map<String, Object> kw) {
        Args.bind("last", args, kw);
        if (v instanceof Generator) {
            throw new TemplateException("TypeError: 'generator' object is not reversible");
        }
        List<Object> items = PyValues.items(v);
        return items.isEmpty() ? Undefined.because("No last item, sequence was empty.") : items.get(items.size() - 1);
    }

    private static Object join(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("join", args, kw, "d", "attribute");
        String separator = PyValues.str(a.get(0, ""));
        Function<Object, Object> attr = a.has(1) ? attributeGetter(a.get(1, null), null) : x -> x;
        StringBuilder out = new StringBuilder();
        List<Object> items = PyValues.items(v);
        for (int i = 0; i < items.size(); i++) {
            out.append(i == 0 ? "" : separator).append(PyValues.str(attr.apply(items.get(i))));
        }
        return out.toString();
    }

    private static Object itemsFilter(Object v, List<Object> args, Map<String, Object> kw) {
        Args.bind("items", args, kw);
        if (v instanceof Undefined) {
            return new Generator(List.of());
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new TemplateException("TypeError: Can only get item pairs from a mapping.");
        }
        List<Object> out = new ArrayList<>();
        m.forEach((k, val) -> out.add(PyTuple.of(k, val)));
        return new Generator(out);
    }

    private static Object dictsort(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("dictsort", args, kw, "case_sensitive", "by", "reverse");
        if (!(v instanceof Map<?, ?> m)) {
            throw new TemplateException("TypeError: dictsort needs a mapping, not " + PyValues.typeName(v));
        }
        String by = a.string(1, "key");
        int pos;
        if (by.equals("key")) {
            pos = 0;
        } else if (by.equals("value")) {
            pos = 1;
        } else {
            throw new TemplateException("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
        }
        boolean caseSensitive = a.truthy(0, false);
        List<Object> out = new ArrayList<>();
        m.forEach((k, val) -> out.add(PyTuple.of(k, val)));
        Function<Object, Object> key = item -> foldCase(((PyTuple) item).items().get(pos), caseSensitive);
        return sorted(out, key, a.truthy(2, false));
    }

    private static Object foldCase(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? PyStrings.lower(s) : v;
    }

    /** Python's stable {@code sorted(items, key=key, reverse=reverse)}. */
    private static List<Object> sorted(List<Object> items, Function<Object, Object> key, boolean reverse) {
        List<Object> out = new ArrayList<>(items);
        Comparator<Object> order = (x, y) -> PyValues.compare(key.apply(x), key.apply(y), "<");
        if (reverse) {
            // As CPython does: equal items keep their original order even when reversing.
            Collections.reverse(out);
            out.sort(order);
            Collections.reverse(out);
        } else {
            out.sort(order);
        }
        return out;
    }

    private static Object replace(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("replace", args, kw, "old", "new", "count");
        String s = PyValues.str(v);
        Object count = a.get(2, null);
        List<Object> methodArgs = new ArrayList<>(List.of(PyValues.str(a.required(0)), PyValues.str(a.required(1))));
        if (count != null) {
            methodArgs.add(count);
        }
        return PyOps.call(PyOps.getattr(s, "replace"), methodArgs, Map.of());
    }

    private static Object toInt(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("int", args, kw, "default", "base");
        long base = a.integer(1, 10);
        if (v instanceof Long) {
            return v;
        }
        if (v instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (v instanceof Double d && !d.isNaN() && !d.isInfinite()) {
            return (long) d.doubleValue();
        }
        if (v instanceof String s) {
            String t = PyStrings.strip(s, null, true, true).replace("_", "");
            try {
                return Long.parseLong(t.startsWith("+") ? t.substring(1) : t, (int) base);
            } catch (NumberFormatException e) {
                Double d = parseFloat(s);
                if (d != null && !d.isNaN() && !d.isInfinite()) {
                    return (long) d.doubleValue();
                }
            }
        }
        return a.get(0, 0L);
    }

    private static Object toFloat(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("float", args, kw, "default");
        if (PyValues.isNumber(v)) {
            return PyValues.number(v).doubleValue();
        }
        if (v instanceof String s) {
            Double d = parseFloat(s);
            if (d != null) {
                return d;
            }
        }
        return a.get(0, 0.0);
    }

    /** Python's {@code float(str)}, or null when Python would raise ValueError. */
    private static Double parseFloat(String s) {
        String t = PyStrings.strip(s, null, true, true).replace("_", "");
        String lower = PyStrings.lower(t);
        String unsigned = lower.startsWith("-") || lower.startsWith("+") ? lower.substring(1) : lower;
        double sign = lower.startsWith("-") ? -1 : 1;
        if (unsigned.equals("inf") || unsigned.equals("infinity")) {
            return sign * Double.POSITIVE_INFINITY;
        }
        if (unsigned.equals("nan")) {
            return Double.NaN;
        }
        if (!unsigned.matches("(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
            return null;
        }
        return Double.parseDouble(t);
    }

    private static Object round(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("round", args, kw, "precision", "method");
        int precision = (int) a.integer(0, 0);
        String method = a.string(1, "common");
        if (!PyValues.isNumber(v)) {
            throw new TemplateException("TypeError: round needs a number, not " + PyValues.typeName(v));
        }
        switch (method) {
            case "common":
                if (!(v instanceof Double)) {
                    return PyValues.number(v).longValue();
                }
                double d = (Double) v;
                return Double.isFinite(d)
                        ? new BigDecimal(d)
                                .setScale(precision, RoundingMode.HALF_EVEN)
                                .doubleValue()
                        : d;
            case "floor":
            case "ceil":
                double scale = Math.pow(10, precision);
                double x = PyValues.number(v).doubleValue() * scale;
                return (method.equals("floor") ? Math.floor(x) : Math.ceil(x)) / scale;
            default:
                throw new TemplateException("FilterArgumentError: method must be common, ceil or floor");
        }
    }

    private static Object indent(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("indent", args, kw, "width", "first", "blank");
        Object width = a.get(0, 4L);
        String indention = width instanceof String s
                ? s
                : " ".repeat((int) Math.max(0, PyValues.number(width).longValue()));
        String s = PyValues.str(v) + "\n";
        List<Object> lines = PyStrings.splitlines(s, false);
        StringBuilder out = new StringBuilder();
        if (a.truthy(2, false)) {
            for (int i = 0; i < lines.size(); i++) {
                out.append(i == 0 ? "" : "\n" + indention).append(lines.get(i));
            }
        } else {
            out.append(lines.isEmpty() ? "" : lines.get(0));
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                out.append('\n').append(line.isEmpty() ? "" : indention + line);
            }
        }
        return a.truthy(1, false) ? indention + out : out.toString();
    }

    /** Jinja's attribute getter: dotted path, integer parts as indexes, item lookup first; default for undefined. */
    private static Function<Object, Object> attributeGetter(Object attribute, Object fallback) {
        List<Object> parts = new ArrayList<>();
        if (attribute instanceof String s) {
            for (Object part : PyStrings.split(s, ".", -1)) {
                String p = (String) part;
                parts.add(p.matches("\\d+") ? (Object) Long.parseLong(p) : p);
            }
        } else {
            parts.add(attribute);
        }
        return item -> {
            Object current = item;
            for (Object part : parts) {
                current = PyOps.getitem(current, part);
            }
            return fallback != null && current instanceof Undefined ? fallback : current;
        };
    }

    private static Object map(Object v, List<Object> args, Map<String, Object> kw) {
        Function<Object, Object> fn;
        if (args.isEmpty() && kw.containsKey("attribute")) {
            Map<String, Object> rest = new LinkedHashMap<>(kw);
            Object attribute = rest.remove("attribute");
            Object fallback = rest.remove("default");
            if (!rest.isEmpty()) {
                throw new TemplateException("FilterArgumentError: Unexpected keyword argument '"
                        + rest.keySet().iterator().next() + "'");
            }
            fn = attributeGetter(attribute, fallback);
        } else {
            if (args.isEmpty()) {
                throw new TemplateException("FilterArgumentError: map requires a filter argument");
            }
            String name = PyValues.str(args.get(0));
            List<Object> rest = args.subList(1, args.size());
            fn = item -> apply(name, item, rest, kw);
        }
        List<Object> out = new ArrayList<>();
        for (Object item : PyValues.items(v)) {
            out.add(fn.apply(item));
        }
        return new Generator(out);
    }

    private static Object select(Object v, List<Object> args, Map<String, Object> kw, boolean byAttr, boolean keep) {
        int offset = 0;
        Function<Object, Object> transform = x -> x;
        if (byAttr) {
            if (args.isEmpty()) {
                throw new TemplateException("FilterArgumentError: Missing parameter for attribute name");
            }
            transform = attributeGetter(args.get(0), null);
            offset = 1;
        }
        Predicate<Object> test;
        if (args.size() > offset) {
            String testName = PyValues.str(args.get(offset));
            List<Object> testArgs = args.subList(offset + 1, args.size());
            test = x -> Tests.apply(testName, x, testArgs, kw);
        } else {
            test = PyValues::truthy;
        }
        List<Object> out = new ArrayList<>();
        for (Object item : PyValues.items(v)) {
            if (test.test(transform.apply(item)) == keep) {
                out.add(item);
            }
        }
        return new Generator(out);
    }

    private static Object sort(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("sort", args, kw, "reverse", "case_sensitive", "attribute");
        Function<Object, Object> attr = a.get(2, null) == null ? x -> x : attributeGetter(a.get(2, null), null);
        boolean caseSensitive = a.truthy(1, false);
        return sorted(PyValues.items(v), x -> foldCase(attr.apply(x), caseSensitive), a.truthy(0, false));
    }

    private static Object unique(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("unique", args, kw, "case_sensitive", "attribute");
        Function<Object, Object> attr = a.get(1, null) == null ? x -> x : attributeGetter(a.get(1, null), null);
        boolean caseSensitive = a.truthy(0, false);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object item : PyValues.items(v)) {
            Object key = foldCase(attr.apply(item), caseSensitive);
            if (seen.stream().noneMatch(k -> PyValues.eq(k, key))) {
                seen.add(key);
                out.add(item);
            }
        }
        return new Generator(out);
    }

    private static Object reverse(Object v, List<Object> args, Map<String, Object> kw) {
        Args.bind("reverse", args, kw);
        if (v instanceof String s) {
            return PyOps.getitem(s, new PySlice(null, null, -1L));
        }
        List<Object> items = new ArrayList<>(PyValues.items(v));
        Collections.reverse(items);
        return v instanceof Generator ? items : new Generator(items);
    }

    private static Object sum(Object v, List<Object> args, Map<String, Object> kw) {
        Args a = Args.bind("sum", args, kw, "attribute", "start");
        Function<Object, Object> attr = a.get(0, null) == null ? x -> x : attributeGetter(a.get(0, null), null);
        Object total = a.get(1, 0L);
        for (Object item : PyValues.items(v)) {
            total = PyOps.binary("+", total, attr.apply(item));
        }
        return total;
    }

    private static Object extreme(String name, Object v, List<Object> args, Map<String, Object> kw, int sign) {
        Args a = Args.bind(name, args, kw, "case_sensitive", "attribute");
        Function<Object, Object> attr = a.get(1, null) == null ? x -> x : attributeGetter(a.get(1, null), null);
        boolean caseSensitive = a.truthy(0, false);
        Object best = null;
        boolean found = false;
        for (Object item : PyValues.items(v)) {
            if (!found
                    || sign
                                    * PyValues.compare(
                                            foldCase(attr.apply(item), caseSensitive),
                                            foldCase(attr.apply(best), caseSensitive),
                                            "<")
                            > 0) {
                best = item;
                found = true;
            }
        }
        return found
                ? best
                : Undefined.because("No " + (sign < 0 ? "smallest" : "largest") + " item, sequence was empty.");
    }
}
