package dev.distill.tokenizer.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** Jinja's {@code namespace(...)}: the one object whose attributes {@code {% set ns.x = ... %}} may assign. */
final class Namespace implements HasAttributes {
    private final Map<Object, Object> values = new LinkedHashMap<>();

    Namespace(Map<?, ?> initial) {
        values.putAll(initial);
    }

    @Override
    public Object attribute(String name) {
        return values.containsKey(name) ? values.get(name) : Undefined.member(this, name);
    }

    void assign(String name, Object value) {
        values.put(name, value);
    }

    @Override
    public String toString() {
        return "<Namespace " + PyValues.repr(values) + ">";
    }
}
