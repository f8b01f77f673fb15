package dev.distill.tokenizer.jinja;

import java.util.HashMap;
import java.util.Map;

/**
 * A variable scope. The template body, each for-loop iteration and each macro call get their own frame;
 * {@code {% set %}} writes to the innermost one, so loop assignments never leak out (as in Jinja).
 */
final class Frame {
    private final Frame parent;
    private final String sourceName;
    private final Map<String, Object> vars = new HashMap<>();

    private Frame(Frame parent, String sourceName) {
        this.parent = parent;
        this.sourceName = sourceName;
    }

    static Frame root(String sourceName, Map<String, Object> variables) {
        Frame frame = new Frame(null, sourceName);
        frame.vars.putAll(variables);
        return frame;
    }

    Frame child() {
        return new Frame(this, sourceName);
    }

    String sourceName() {
        return sourceName;
    }

    Object lookup(String name) {
        for (Frame f = this; f != null; f = f.parent) {
            if (f.vars.containsKey(name)) {
                return f.vars.get(name);
            }
        }
        return Undefined.variable(name);
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}
