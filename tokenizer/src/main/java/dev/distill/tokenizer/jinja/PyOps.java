package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python operators on template values: arithmetic, {@code in}, attribute and item access, calls. */
final class PyOps {
    private PyOps() {}

    private static void defined(Object... values) {
        for (Object v : values) {
            if (v instanceof Undefined u) {
                throw u.error();
            }
        }
    }

    private static TemplateException unsupported(String op, Object a, Object b) {
        if (op.equals("+") && a instanceof String) {
            return new TemplateException(
                    "TypeError: can only concatenate str (not \"" + PyValues.typeName(b) + "\") to str");
        }
        if (op.equals("+") && a instanceof List) {
            return new TemplateException(
                    "TypeError: can only concatenate list (not \"" + PyValues.typeName(b) + "\") to list");
        }
        return new TemplateException("TypeError: unsupported operand type(s) for " + op + ": '" + PyValues.typeName(a)
                + "' and '" + PyValues.typeName(b) + "'");
    }

    /** A binary arithmetic operator: {@code + - * / // % **}. */
    static Object binary(String op, Object a, Object b) {
        defined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            Number x = PyValues.number(a);
            Number y = PyValues.number(b);
            return x instanceof Long && y instanceof Long
                    ? integer(op, x.longValue(), y.longValue())
                    : real(op, x.doubleValue(), y.doubleValue());
        }
        switch (op) {
            case "+":
                if (a instanceof String x && b instanceof String y) {
                    return x + y;
                }
                if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> out = new ArrayList<>(x);
                    out.addAll(y);
                    return out;
                }
                if (a instanceof PyTuple x && b instanceof PyTuple y) {
                    List<Object> out = new ArrayList<>(x.items());
                    out.addAll(y.items());
                    return new PyTuple(out);
                }
                break;
            case "*":
                if (b instanceof String || b instanceof List || b instanceof PyTuple) {
                    if (PyValues.isNumber(a) && !(a instanceof Double)) {
                        return repeat(b, PyValues.number(a).longValue());
                    }
                } else if (PyValues.isNumber(b) && !(b instanceof Double)) {
                    if (a instanceof String || a instanceof List || a instanceof PyTuple) {
                        return repeat(a, PyValues.number(b).longValue());
                    }
                }
                break;
            case "%":
                if (a instanceof String) {
                    throw new TemplateException("printf-style string formatting ('%' on a string) is not supported");
                }
                break;
            default:
                break;
        }
        throw unsupported(op, a, b);
    }

    private static Object repeat(Object seq, long times) {
        if (seq instanceof String s) {
            return times <= 0 ? "" : s.repeat(Math.toIntExact(times));
        }
        List<?> items = seq instanceof PyTuple t ? t.items() : (List<?>) seq;
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < times; i++) {
            out.addAll(items);
        }
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static Object integer(String op, long x, long y) {
        try {
            switch (op) {
                case "+":
                    return Math.addExact(x, y);
                case "-":
                    return Math.subtractExact(x, y);
                case "*":
                    return Math.multiplyExact(x, y);
                case "/":
                    return real(op, x, y);
                case "//":
                    zeroCheck(y == 0, "integer division or modulo by zero");
                    return Math.floorDiv(x, y);
                case "%":
                    zeroCheck(y == 0, "integer division or modulo by zero");
                    return Math.floorMod(x, y);
                case "**":
                    if (y < 0) {
                        return real(op, x, y);
                    }
                    long result = 1;
                    for (long i = 0; i < y; i++) {
                        result = Math.multiplyExact(result, x);
                    }
                    return result;
                default:
                    throw new IllegalStateException(op);
            }
        } catch (ArithmeticException e) {
            throw new TemplateException(
                    "OverflowError: integer result of " + x + " " + op + " " + y + " does not fit in 64 bits");
        }
    }

    private static void zeroCheck(boolean zero, String message) {
        if (zero) {
            throw new TemplateException("ZeroDivisionError: " + message);
        }
    }

    private static Object real(String op, double x, double y) {
        switch (op) {
            case "+":
                return x + y;
            case "-":
                return x - y;
            case "*":
                return x * y;
            case "/":
                zeroCheck(y == 0, "division by zero");
                return x / y;
            case "//":
                zeroCheck(y == 0, "float floor division by zero");
                return Math.floor(x / y);
            case "%":
                zeroCheck(y == 0, "float modulo");
                double r = x % y;
                return (r != 0 && (r < 0) != (y < 0)) ? r + y : r;
            case "**":
                zeroCheck(x == 0 && y < 0, "0.0 cannot be raised to a negative power");
                return Math.pow(x, y);
            default:
                throw new IllegalStateException(op);
        }
    }

    static Object negate(Object v) {
        defined(v);
        if (v instanceof Double d) {
            return -d;
        }
        if (PyValues.isNumber(v)) {
            return Math.negateExact(PyValues.number(v).longValue());
        }
        throw new TemplateException("TypeError: bad operand type for unary -: '" + PyValues.typeName(v) + "'");
    }

    static Object plus(Object v) {
        defined(v);
        if (v instanceof Double) {
            return v;
        }
        if (PyValues.isNumber(v)) {
            return PyValues.number(v).longValue();
        }
        throw new TemplateException("TypeError: bad operand type for unary +: '" + PyValues.typeName(v) + "'");
    }

    /** Python's {@code needle in haystack}. */
    static boolean contains(Object haystack, Object needle) {
        if (haystack instanceof String s) {
            if (!(needle instanceof String n)) {
                throw new TemplateException(
                        "TypeError: 'in <string>' requires string as left operand, not " + PyValues.typeName(needle));
            }
            return s.contains(n);
        }
        if (haystack instanceof Map<?, ?> m) {
            return m.containsKey(needle) || m.keySet().stream().anyMatch(k -> PyValues.eq(k, needle));
        }
        if (haystack instanceof Undefined) {
            return false;
        }
        for (Object item : PyValues.items(haystack)) {
            if (PyValues.eq(item, needle)) {
                return true;
            }
        }
        return false;
    }

    /** {@code obj.name}: Jinja's sandboxed getattr (Python attribute first, then item). */
    static Object getattr(Object obj, String name) {
        defined(obj);
        if (obj instanceof HasAttributes owner) {
            return owner.attribute(name);
        }
        JinjaCallable method = Methods.lookup(obj, name);
        if (method != null) {
            return method;
        }
        if (obj instanceof Map<?, ?> m && m.containsKey(name)) {
            return m.get(name);
        }
        return Undefined.member(obj, name);
    }

    /** {@code obj[key]}: Jinja's getitem (item first, then attribute for string keys); misses are undefined. */
    static Object getitem(Object obj, Object key) {
        defined(obj);
        if (key instanceof PySlice slice) {
            return slice(obj, slice);
        }
        if (obj instanceof Map<?, ?> m) {
            if (m.containsKey(key)) {
                return m.get(key);
            }
        } else if ((key instanceof Long || key instanceof Boolean) && isSequence(obj)) {
            long index = PyValues.number(key).longValue();
            List<Object> items = obj instanceof PyRange r ? r.toList() : PyValues.items(obj);
            long at = index < 0 ? index + items.size() : index;
            if (at >= 0 && at < items.size()) {
                return items.get((int) at);
            }
        }
        if (key instanceof String name) {
            JinjaCallable method = obj instanceof Map ? Methods.lookup(obj, name) : null;
            return method != null ? method : obj instanceof Map ? Undefined.member(obj, name) : getattr(obj, name);
        }
        return Undefined.member(obj, key);
    }

    private static boolean isSequence(Object obj) {
        return obj instanceof String || obj instanceof List || obj instanceof PyTuple || obj instanceof PyRange;
    }

    private static Object slice(Object obj, PySlice slice) {
        if (obj instanceof String s) {
            int[] cps = PyStrings.codePoints(s);
            StringBuilder out = new StringBuilder();
            for (int i : slice.indices(cps.length)) {
                out.appendCodePoint(cps[i]);
            }
            return out.toString();
        }
        if (obj instanceof List || obj instanceof PyTuple || obj instanceof PyRange) {
            List<Object> items = obj instanceof PyRange r ? r.toList() : PyValues.items(obj);
            List<Object> out = new ArrayList<>();
            for (int i : slice.indices(items.size())) {
                out.add(items.get(i));
            }
            return obj instanceof PyTuple ? new PyTuple(out) : out;
        }
        return Undefined.member(obj, "slice");
    }

    static Object call(Object fn, List<Object> args, Map<String, Object> kwargs) {
        defined(fn);
        if (fn instanceof JinjaCallable callable) {
            return callable.call(args, kwargs);
        }
        throw new TemplateException("TypeError: '" + PyValues.typeName(fn) + "' object is not callable");
    }
}
