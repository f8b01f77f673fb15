package dev.distill.tokenizer.jinja;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja's tests ({@code x is defined}, {@code x is string}, {@code x is divisibleby(3)}...). */
final class Tests {
    private Tests() {}

    /** One test: the value, then the test's own arguments. */
    @FunctionalInterface
    interface Test {
        boolean test(Object value, Args args);
    }

    private static final Set<String> JINJA_ONLY = Set.of("escaped", "filter", "test");
    private static final Map<String, String[]> PARAMS = new HashMap<>();
    private static final Map<String, Test> TESTS = new HashMap<>();

    private static void add(Test test, String[] params, String... names) {
        for (String name : names) {
            TESTS.put(name, test);
            PARAMS.put(name, params);
        }
    }

    private static final String[] NONE = {};
    private static final String[] OTHER = {"other"};

    static {
        add((v, a) -> !(v instanceof Undefined), NONE, "defined");
        add((v, a) -> v instanceof Undefined, NONE, "undefined");
        add((v, a) -> v == null, NONE, "none");
        add((v, a) -> v instanceof Boolean, NONE, "boolean");
        add((v, a) -> Boolean.TRUE.equals(v), NONE, "true");
        add((v, a) -> Boolean.FALSE.equals(v), NONE, "false");
        add((v, a) -> v instanceof Long, NONE, "integer");
        add((v, a) -> v instanceof Double, NONE, "float");
        add((v, a) -> PyValues.isNumber(v), NONE, "number");
        add((v, a) -> v instanceof String, NONE, "string");
        add((v, a) -> v instanceof Map, NONE, "mapping");
        add((v, a) -> PyValues.isIterable(v), NONE, "iterable");
        add(
                (v, a) -> v instanceof String
                        || v instanceof List
                        || v instanceof Map
                        || v instanceof PyTuple
                        || v instanceof PyRange
                        || v instanceof Undefined,
                NONE,
                "sequence");
        add((v, a) -> v instanceof JinjaCallable, NONE, "callable");
        add((v, a) -> PyValues.eq(PyOps.binary("%", v, 2L), 1L), NONE, "odd");
        add((v, a) -> PyValues.eq(PyOps.binary("%", v, 2L), 0L), NONE, "even");
        add((v, a) -> PyValues.eq(PyOps.binary("%", v, a.required(0)), 0L), new String[] {"num"}, "divisibleby");
        add((v, a) -> PyValues.eq(v, a.required(0)), OTHER, "eq", "equalto", "==");
        add((v, a) -> !PyValues.eq(v, a.required(0)), OTHER, "ne", "!=");
        add((v, a) -> PyValues.compare(v, a.required(0), "<") < 0, OTHER, "lt", "lessthan", "<");
        add((v, a) -> PyValues.compare(v, a.required(0), "<=") <= 0, OTHER, "le", "<=");
        add((v, a) -> PyValues.compare(v, a.required(0), ">") > 0, OTHER, "gt", "greaterthan", ">");
        add((v, a) -> PyValues.compare(v, a.required(0), ">=") >= 0, OTHER, "ge", ">=");
        add((v, a) -> PyOps.contains(a.required(0), v), new String[] {"seq"}, "in");
        add((v, a) -> PyStrings.isAllCase(PyValues.str(v), true), NONE, "lower");
        add((v, a) -> PyStrings.isAllCase(PyValues.str(v), false), NONE, "upper");
        add((v, a) -> sameAs(v, a.required(0)), OTHER, "sameas");
    }

    /** Python's {@code is}: None, booleans and small ints are singletons; everything else is identity. */
    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null || a instanceof Boolean || b instanceof Boolean) {
            return a == null ? b == null : a.equals(b);
        }
        if (a instanceof Long x && b instanceof Long y) {
            return x.longValue() == y.longValue() && x >= -5 && x <= 256;
        }
        return a == b;
    }

    /** Fails at compile time, as Jinja does, for a test it does not know or this engine does not support. */
    static void check(String name) {
        if (JINJA_ONLY.contains(name)) {
            throw new TemplateException("test '" + name + "' is not supported by this template engine");
        }
        if (!TESTS.containsKey(name)) {
            throw new TemplateException("no test named '" + name + "'");
        }
    }

    static boolean apply(String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        check(name);
        return TESTS.get(name).test(value, Args.bind(name, args, kwargs, PARAMS.get(name)));
    }
}
