package dev.distill.tokenizer.jinja;

import java.util.List;

/** A dict view ({@code dict.items()}, {@code keys()}, {@code values()}): prints as {@code dict_items([...])}. */
record DictView(String kind, List<Object> items) {}
