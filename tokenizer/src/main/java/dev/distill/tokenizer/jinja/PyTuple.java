package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A Python tuple: an immutable sequence (may hold None) that prints as {@code (a, b)} and never equals a list. */
record PyTuple(List<Object> items) {
    PyTuple {
        items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    static PyTuple of(Object... items) {
        List<Object> list = new ArrayList<>();
        Collections.addAll(list, items);
        return new PyTuple(list);
    }
}
