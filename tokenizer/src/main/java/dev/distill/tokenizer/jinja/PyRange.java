package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/** A Python {@code range} object (at most 100,000 items, as Jinja's sandbox allows). */
record PyRange(long start, long stop, long step) {
    static final int MAX_RANGE = 100_000;

    PyRange {
        if (step == 0) {
            throw new TemplateException("ValueError: range() arg 3 must not be zero");
        }
        if (size(start, stop, step) > MAX_RANGE) {
            throw new TemplateException(
                    "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        }
    }

    private static long size(long start, long stop, long step) {
        if (step > 0) {
            return stop <= start ? 0 : (stop - start + step - 1) / step;
        }
        return stop >= start ? 0 : (start - stop - step - 1) / -step;
    }

    List<Object> toList() {
        List<Object> out = new ArrayList<>();
        for (long i = 0, n = size(start, stop, step); i < n; i++) {
            out.add(start + i * step);
        }
        return out;
    }

    @Override
    public String toString() {
        return "range(" + start + ", " + stop + (step == 1 ? "" : ", " + step) + ")";
    }
}
