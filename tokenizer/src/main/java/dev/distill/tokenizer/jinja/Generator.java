package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A Python generator (what {@code map}, {@code select}, {@code items}... return): iterable once, always
 * truthy, without a length, and not printable.
 */
final class Generator {
    private Iterator<Object> rest;

    Generator(List<Object> items) {
        this.rest = items.iterator();
    }

    /** The items not consumed yet; the generator is empty afterwards, as in Python. */
    List<Object> drain() {
        List<Object> out = new ArrayList<>();
        rest.forEachRemaining(out::add);
        rest = List.<Object>of().iterator();
        return out;
    }
}
