package dev.distill.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/** Binds positional and keyword arguments to a filter, test, method or function's parameter names, as Python does. */
final class Args {
    private final String function;
    private final Object[] values;
    private final boolean[] given;

    private Args(String function, int size) {
        this.function = function;
        this.values = new Object[size];
        this.given = new boolean[size];
    }

    static Args bind(String function, List<Object> args, Map<String, Object> kwargs, String... params) {
        if (args.size() > params.length) {
            throw new TemplateException("TypeError: " + function + "() takes at most " + params.length
                    + " argument(s) (" + args.size() + " given)");
        }
        Args bound = new Args(function, params.length);
        for (int i = 0; i < args.size(); i++) {
            bound.values[i] = args.get(i);
            bound.given[i] = true;
        }
        kwargs.forEach((name, value) -> {
            int i = List.of(params).indexOf(name);
            if (i < 0) {
                throw new TemplateException(
                        "TypeError: " + function + "() got an unexpected keyword argument '" + name + "'");
            }
            if (bound.given[i]) {
                throw new TemplateException(
                        "TypeError: " + function + "() got multiple values for argument '" + name + "'");
            }
            bound.values[i] = value;
            bound.given[i] = true;
        });
        return bound;
    }

    boolean has(int i) {
        return given[i];
    }

    Object get(int i, Object fallback) {
        return given[i] ? values[i] : fallback;
    }

    Object required(int i) {
        if (!given[i]) {
            throw new TemplateException("TypeError: " + function + "() missing a required argument (#" + (i + 1) + ")");
        }
        return values[i];
    }

    String string(int i, String fallback) {
        Object v = get(i, fallback);
        if (v != null && !(v instanceof String)) {
            throw new TemplateException(
                    "TypeError: " + function + "() argument " + (i + 1) + " must be str, not " + PyValues.typeName(v));
        }
        return (String) v;
    }

    long integer(int i, long fallback) {
        Object v = get(i, fallback);
        if (!(v instanceof Long || v instanceof Boolean)) {
            throw new TemplateException(
                    "TypeError: " + function + "() argument " + (i + 1) + " must be int, not " + PyValues.typeName(v));
        }
        return PyValues.number(v).longValue();
    }

    boolean truthy(int i, boolean fallback) {
        return PyValues.truthy(get(i, fallback));
    }
}
