package dev.distill.tokenizer.jinja;

/** A Python slice {@code [start:stop:step]}; absent bounds are {@code null}. */
record PySlice(Long start, Long stop, Long step) {

    /** The indices this slice selects from a sequence of {@code length} items, as Python's {@code slice.indices}. */
    int[] indices(int length) {
        long st = step == null ? 1 : step;
        if (st == 0) {
            throw new TemplateException("ValueError: slice step cannot be zero");
        }
        long lower = st < 0 ? -1 : 0;
        long upper = st < 0 ? length - 1 : length;
        long from = start == null ? (st < 0 ? upper : lower) : clamp(start, length, lower, upper);
        long to = stop == null ? (st < 0 ? lower : upper) : clamp(stop, length, lower, upper);
        int count = 0;
        if (st > 0 && to > from) {
            count = (int) ((to - from + st - 1) / st);
        } else if (st < 0 && from > to) {
            count = (int) ((from - to - st - 1) / -st);
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = (int) (from + i * st);
        }
        return out;
    }

    private static long clamp(long index, int length, long lower, long upper) {
        long i = index < 0 ? index + length : index;
        return Math.max(lower, Math.min(upper, i));
    }
}
