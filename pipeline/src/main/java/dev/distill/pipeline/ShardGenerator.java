package dev.distill.pipeline;

import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.prompts.InvalidPromptException;
import dev.distill.prompts.PromptRecord;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.SkipReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Produces one shard: reads its prompt range, encodes, batches and runs the teacher, then writes the
 * rows in (prompt_index, sample_index) order and commits the file. Its data depend only on the run
 * configuration and the prompt range.
 */
final class ShardGenerator {
    private final GenerateSpec spec;
    private final Teacher teacher;
    private final PromptEncoder encoder;
    private final BatchPlanner planner;
    private final GenerationParams params;

    ShardGenerator(GenerateSpec spec, Teacher teacher, PromptEncoder encoder, BatchPlanner planner,
            GenerationParams params) {
        this.spec = spec;
        this.teacher = teacher;
        this.encoder = encoder;
        this.planner = planner;
        this.params = params;
    }

    /** Generates and commits shard {@code index}; returns its completion-token count. */
    long generate(RunDirectory run, int index, PromptSource source, ShardMetadata meta, SkipReport skips,
            Progress progress) throws IOException {
        long[] range = run.shardRange(index);
        source.skipTo(range[0]);
        List<WorkItem> items = new ArrayList<>();
        long prompts = 0;
        for (long p = range[0]; p < range[1]; p++) {
            PromptRecord r = source.next();
            prompts++;
            if (!r.valid()) {
                if (!spec.skipInvalid()) {
                    throw source.invalid(r);
                }
                skips.add(r.invalidReason());
                continue;
            }
            PromptEncoder.Encoded e = encoder.encode(r);
            if (e.skipReason() != null) {
                if (!spec.skipInvalid()) {
                    throw new InvalidPromptException(spec.prompts(), r.index(), e.skipReason(), e.detail());
                }
                skips.add(e.skipReason());
                continue;
            }
            for (int s = 0; s < spec.samplesPerPrompt(); s++) {
                int maxNew = Math.min(spec.maxNewTokens(), teacher.contextLength() - e.promptIds().length);
                items.add(new WorkItem(r.index(), s, e.promptIds(), e.responseIds(), maxNew,
                        WorkItem.rowSeed(spec.seed(), r.index(), s)));
            }
        }
        List<TeacherOutput> outputs = new ArrayList<>(items.size());
        for (List<WorkItem> batch : planner.plan(items)) {
            List<TeacherOutput> done = OutOfMemory.retrySplitting(batch, b -> spec.mode() == Mode.SCORE
                    ? teacher.score(b, spec.topK()) : teacher.generate(b, params));
            outputs.addAll(done);
            progress.advance(0, done.stream().mapToLong(o -> o.completionIds().length).sum());
        }
        outputs.sort(Comparator.comparingLong((TeacherOutput o) -> o.item().promptIndex())
                .thenComparingInt(o -> o.item().sampleIndex()));
        long tokens = 0;
        try (ShardWriter writer = run.openShard(index, meta)) {
            for (TeacherOutput o : outputs) {
                WorkItem w = o.item();
                writer.write(SoftLabelRow.of(w.promptIndex(), w.sampleIndex(), w.promptIds(), o.completionIds(),
                        o.completionLogprobs(), o.topkIds(), o.topkLogprobs(), o.finishReason()));
                tokens += o.completionIds().length;
            }
            writer.commit();
        }
        progress.advance(prompts, 0);
        return tokens;
    }
}
