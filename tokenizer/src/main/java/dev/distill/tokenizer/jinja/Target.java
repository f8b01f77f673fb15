package dev.distill.tokenizer.jinja;

import java.util.List;

/** The left side of {@code {% set %}} or {@code {% for %}}: a name, a namespace attribute, or a tuple of names. */
abstract class Target {
    abstract void assign(Frame frame, Object value);

    /** A plain variable. */
    static final class Name extends Target {
        final String name;

        Name(String name) {
            this.name = name;
        }

        @Override
        void assign(Frame frame, Object value) {
            frame.set(name, value);
        }
    }

    /** {@code ns.attr}: only a {@link Namespace} accepts it. */
    static final class NamespaceAttr extends Target {
        final String name;
        final String attr;

        NamespaceAttr(String name, String attr) {
            this.name = name;
            this.attr = attr;
        }

        @Override
        void assign(Frame frame, Object value) {
            Object ns = frame.lookup(name);
            if (!(ns instanceof Namespace namespace)) {
                throw new TemplateException("cannot assign attribute on non-namespace object");
            }
            namespace.assign(attr, value);
        }
    }

    /** {@code a, b}: unpacks a sequence of exactly that many items. */
    static final class Unpack extends Target {
        final List<Target> parts;

        Unpack(List<Target> parts) {
            this.parts = parts;
        }

        @Override
        void assign(Frame frame, Object value) {
            List<Object> items = PyValues.items(value);
            if (items.size() != parts.size()) {
                throw new TemplateException("ValueError: "
                        + (items.size() > parts.size()
                                ? "too many values to unpack (expected " + parts.size() + ")"
                                : "not enough values to unpack (expected " + parts.size() + ", got " + items.size()
                                        + ")"));
            }
            for (int i = 0; i < parts.size(); i++) {
                parts.get(i).assign(frame, items.get(i));
            }
        }
    }
}
