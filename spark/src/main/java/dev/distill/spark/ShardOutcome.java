package dev.distill.spark;

import dev.distill.prompts.SkipReport;
import java.io.Serializable;
import java.util.Map;

/**
 * What one task did for its shard: prompts read, completion tokens written, skipped prompts by reason, and which
 * attempt it was ({@code attempt > 0}: Spark retried the shard). {@code committedElsewhere}: another attempt had
 * committed the shard, so this one wrote nothing.
 */
record ShardOutcome(
        int shard, int attempt, long prompts, long tokens, Map<String, Long> skipped, boolean committedElsewhere)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    ShardOutcome {
        skipped = Map.copyOf(skipped);
    }

    static ShardOutcome committedElsewhere(int shard, int attempt) {
        return new ShardOutcome(shard, attempt, 0, 0, Map.of(), true);
    }

    /** Adds this shard's skipped prompts to {@code report}. */
    void addSkipsTo(SkipReport report) {
        skipped.forEach((reason, n) -> {
            for (long i = 0; i < n; i++) {
                report.add(reason);
            }
        });
    }
}
