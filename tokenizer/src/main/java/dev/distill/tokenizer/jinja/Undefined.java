package dev.distill.tokenizer.jinja;

/**
 * Jinja's default {@code Undefined}: prints as nothing, is falsy, iterates as empty and has length 0;
 * any other use (attribute, item, call, arithmetic) is an error naming what was undefined.
 */
final class Undefined {
    private final String message;

    private Undefined(String message) {
        this.message = message;
    }

    /** A variable that no scope defines. */
    static Undefined variable(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    /** A missing attribute or item of {@code owner}. */
    static Undefined member(Object owner, Object key) {
        String what = key instanceof String ? "attribute '" + key + "'" : "element " + PyValues.repr(key);
        return new Undefined("'" + PyValues.objectDescription(owner) + "' has no " + what);
    }

    /** An undefined value explained by {@code message}. */
    static Undefined because(String message) {
        return new Undefined(message);
    }

    TemplateException error() {
        return new TemplateException(message);
    }

    @Override
    public String toString() {
        return "Undefined";
    }
}
