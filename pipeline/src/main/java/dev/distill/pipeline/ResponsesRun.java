package dev.distill.pipeline;

import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.ShardSchema;
import dev.distill.data.SoftLabelRow;
import dev.distill.prompts.SkipReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The run whose completions {@code generate --mode score --responses-from RUN_DIR} scores: a complete run directory
 * made with the scoring tokenizer. Shard i of the scoring run holds exactly the rows of its shard i, each scored with
 * the same prompt and completion ids, so the two runs line up row by row.
 */
final class ResponsesRun {
    private final RunDirectory run;

    private ResponsesRun(RunDirectory run) {
        this.run = run;
    }

    /**
     * Opens the run at {@code location}.
     *
     * @param tokenizerSha256 the scoring tokenizer's hash: the run must have been made with the same tokenizer
     * @throws IllegalArgumentException naming the option and the directory when it is missing, incomplete or was made
     *     with another tokenizer
     */
    static ResponsesRun open(String location, String tokenizerSha256) throws IOException {
        RunDirectory run;
        try {
            run = RunDirectory.existing(location);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--responses-from: " + e.getMessage(), e);
        }
        if (!run.isComplete()) {
            throw new IllegalArgumentException("--responses-from " + location + ": the run is incomplete ("
                    + run.committedShards().size() + " of " + run.shardCount() + " shards committed); finish it first");
        }
        String theirs = run.config().path("tokenizer_sha256").asText("");
        if (!theirs.equals(tokenizerSha256)) {
            throw new IllegalArgumentException("--responses-from " + location + " was made with tokenizer sha256 "
                    + (theirs.isEmpty() ? "(unrecorded)" : theirs) + ", but the scoring tokenizer has sha256 "
                    + tokenizerSha256 + "; score it with a teacher of the same tokenizer");
        }
        return new ResponsesRun(run);
    }

    RunDirectory run() {
        return run;
    }

    /**
     * Shard {@code index}'s rows as score-mode work items (prompt ids and completion ids as recorded), in row order.
     * A row with no completion, or longer than {@code contextLength}, is skipped (counted in {@code skips}) with
     * {@code skipInvalid}, else it stops the run naming the shard and sample.
     */
    List<WorkItem> items(int index, int contextLength, boolean skipInvalid, SkipReport skips) throws IOException {
        List<WorkItem> items = new ArrayList<>();
        org.apache.hadoop.fs.Path file = run.shardPath(index);
        try (ShardReader reader = ShardReader.open(
                file,
                List.of(
                        ShardSchema.SAMPLE_ID,
                        ShardSchema.PROMPT_INDEX,
                        ShardSchema.SAMPLE_INDEX,
                        ShardSchema.PROMPT_IDS,
                        ShardSchema.COMPLETION_IDS))) {
            for (SoftLabelRow r : reader) {
                int span = r.promptIds().length + r.completionIds().length;
                String reason = r.completionIds().length == 0
                        ? SkipReport.MISSING_RESPONSE
                        : span > contextLength ? SkipReport.TOO_LONG : null;
                if (reason != null) {
                    if (!skipInvalid) {
                        throw new IllegalArgumentException(file + ": sample " + r.sampleId() + ": "
                                + (reason.equals(SkipReport.TOO_LONG)
                                        ? "prompt and completion have " + span + " tokens; the teacher's context is "
                                                + contextLength
                                        : "the completion is empty")
                                + " (--skip-invalid skips it)");
                    }
                    skips.add(reason);
                    continue;
                }
                items.add(new WorkItem(r.promptIndex(), r.sampleIndex(), r.promptIds(), r.completionIds(), 0, 0));
            }
        }
        return items;
    }
}
