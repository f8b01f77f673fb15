package dev.distill.tokenizer.jinja;

/** A template object with named attributes ({@code ns.x}, {@code loop.index}). */
interface HasAttributes {
    /** The attribute's value, or an {@link Undefined} when it has none. */
    Object attribute(String name);
}
