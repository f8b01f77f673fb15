package dev.distill.spark;

import dev.distill.data.RunDirectory;
import dev.distill.pipeline.Fingerprints;
import dev.distill.pipeline.GenerateRun;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.pipeline.Progress;
import dev.distill.pipeline.RunInputs;
import dev.distill.pipeline.ShardGenerator;
import dev.distill.pipeline.Teacher;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.SkipReport;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.time.Duration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Spark task: makes one shard with the pipeline's own shard generation, on this executor's cached teacher (or a
 * connection of its own to a --teacher-url server), and commits it (first finisher wins; manifest.json is left to the
 * driver). An attempt whose shard another attempt committed does nothing, whatever happened to it.
 */
final class ShardTask implements Function<Integer, ShardOutcome> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ShardTask.class);

    private final GenerateArgs args;
    private final RunInputs inputs;
    private final LongAccumulator tokens;

    ShardTask(GenerateArgs args, RunInputs inputs, LongAccumulator tokens) {
        this.args = args;
        this.inputs = inputs;
        this.tokens = tokens;
    }

    @Override
    public ShardOutcome call(Integer shard) throws IOException {
        TaskContext task = TaskContext.get();
        int attempt = task.attemptNumber();
        GenerateSpec spec = args.spec();
        RunDirectory run = inputs.attach(spec);
        if (run.isCommitted(shard)) {
            return ShardOutcome.committedElsewhere(shard, attempt);
        }
        long[] range = run.shardRange(shard);
        boolean remote = spec.remote() != null;
        try (Teacher connection = remote ? GenerateRun.openTeacher(spec, null, null) : null;
                HfTokenizer tokenizer = HfTokenizer.load(spec.tokenizer())) {
            requireSameInputs(spec, tokenizer);
            Teacher teacher =
                    remote ? connection : TeacherCache.get(spec, inputs.dtype(), TaskDevice.of(task, spec.device()));
            ShardGenerator generator =
                    ShardGenerator.create(spec, inputs, run, InjectedFailure.wrap(teacher, shard, attempt), tokenizer);
            SkipReport skips = new SkipReport();
            long made;
            try (Progress progress =
                            new Progress("shard " + shard, range[1] - range[0], "prompts", Duration.ofSeconds(30));
                    PromptSource source = generator.openPrompts()) {
                made = generator.generate(shard, source, skips, progress);
            }
            tokens.add(made);
            return new ShardOutcome(shard, attempt, range[1] - range[0], made, skips.counts(), false);
        } catch (IOException | RuntimeException e) {
            if (run.isCommitted(shard)) {
                LOG.info("shard {}: another attempt committed it first ({})", shard, e.getMessage());
                return ShardOutcome.committedElsewhere(shard, attempt);
            }
            throw new IllegalStateException(
                    "shard " + shard + " (prompts " + range[0] + ".." + (range[1] - 1) + "): " + JobFailure.describe(e),
                    e);
        }
    }

    /** Every executor must see the tokenizer, and the local teacher, that the driver fingerprinted. */
    private void requireSameInputs(GenerateSpec spec, HfTokenizer tokenizer) {
        String teacherSha = spec.remote() != null ? null : Fingerprints.teacherSha256(spec.teacher());
        if (teacherSha != null && !teacherSha.equals(inputs.teacherSha256())) {
            throw new IllegalStateException("teacher " + spec.teacher() + " on this executor differs from the driver's"
                    + " (teacher_sha256 " + teacherSha + " vs " + inputs.teacherSha256()
                    + "): every node must see the same files");
        }
        if (!tokenizer.sha256().equals(inputs.tokenizerSha256())) {
            throw new IllegalStateException("tokenizer " + spec.tokenizer() + " on this executor differs from the"
                    + " driver's (tokenizer_sha256 " + tokenizer.sha256() + " vs " + inputs.tokenizerSha256()
                    + "): every node must see the same files");
        }
    }
}
