package dev.distill.data.cli;

import java.util.ArrayList;
import java.util.List;

/** Collects validation failures: every one is counted, the first {@code limit} are kept for the report. */
final class Violations {
    private final int limit;
    private final List<String> first = new ArrayList<>();
    private long count;

    Violations(int limit) {
        this.limit = limit;
    }

    void add(String message) {
        count++;
        if (first.size() < limit) {
            first.add(message);
        }
    }

    long count() {
        return count;
    }

    List<String> first() {
        return first;
    }
}
