package dev.distill.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.cli.UsageException;
import dev.distill.data.RunDirectory;
import dev.distill.data.WorkerLock;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.ModelConfig;
import dev.distill.model.ModelFormatException;
import dev.distill.pipeline.remote.RemoteSampling;
import dev.distill.pipeline.remote.RemoteTeacher;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.SkipReport;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One `distill generate` process: resolves the inputs, opens or resumes the run, produces this worker's shards. */
public final class GenerateRun {
    private static final Logger LOG = LoggerFactory.getLogger(GenerateRun.class);

    private GenerateRun() {}

    public static GenerateSummary run(GenerateSpec spec) throws IOException {
        boolean remote = spec.remote() != null;
        Device device = remote ? null : UsageException.wrap(() -> Engines.device(spec.device()));
        DataType dtype = remote ? null : UsageException.wrap(() -> Engines.computeDtype(spec.dtype(), device));
        requireFitsTeacher(spec);
        try (HfTokenizer tokenizer = HfTokenizer.load(spec.tokenizer())) {
            RunInputs inputs = RunInputs.resolve(spec, dtype, tokenizer);
            RunDirectory run = inputs.open(spec);
            try (WorkerLock lock = run.lockWorker(spec.workerIndex())) {
                return generate(spec, device, dtype, tokenizer, inputs, run);
            }
        }
    }

    private static GenerateSummary generate(
            GenerateSpec spec, Device device, DataType dtype, HfTokenizer tokenizer, RunInputs inputs, RunDirectory run)
            throws IOException {
        List<Integer> pending = run.pendingShards(spec.numWorkers(), spec.workerIndex());
        if (pending.isEmpty()) {
            LOG.info(
                    "{}: every shard of worker {}/{} is already complete",
                    spec.out(),
                    spec.workerIndex(),
                    spec.numWorkers());
            return GenerateSummary.of(run, new SkipReport(), 0, 0, 0);
        }
        try (Teacher teacher = openTeacher(spec, dtype, device)) {
            ShardGenerator shards = ShardGenerator.create(spec, inputs, run, teacher, tokenizer);
            long prompts = pending.stream()
                    .mapToLong(i -> run.shardRange(i)[1] - run.shardRange(i)[0])
                    .sum();
            SkipReport skips = new SkipReport();
            long tokens = 0;
            long start = System.nanoTime();
            try (Progress progress = new Progress("generate", prompts, "prompts", Duration.ofSeconds(30));
                    PromptSource source = shards.openPrompts()) {
                for (int shard : pending) {
                    tokens += shards.generate(shard, source, skips, progress);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return GenerateSummary.of(run, skips, prompts, tokens, seconds);
        }
    }

    /**
     * Checks the options that depend on the teacher against it before the run directory is created or changed (a
     * value it cannot honour would otherwise fail at the first commit, with the run already fixed to it): --top-k
     * must not exceed the vocabulary. The local teacher's config.json is read, the remote one asked for its model.
     */
    static void requireFitsTeacher(GenerateSpec spec) {
        int vocab;
        String teacher;
        if (spec.remote() == null) {
            try {
                vocab = ModelConfig.load(spec.teacher()).vocabSize();
            } catch (ModelFormatException e) {
                throw new IllegalArgumentException("--teacher " + e.getMessage(), e);
            }
            teacher = spec.teacher() + "/config.json";
        } else {
            try (Teacher remote = openTeacher(spec, null, null)) {
                vocab = remote.vocabSize();
            }
            teacher = "the --teacher-url model " + spec.remote().model();
        }
        UsageException.require(
                spec.topK() <= vocab,
                "--top-k " + spec.topK() + " exceeds the teacher's vocabulary of " + vocab + " ids (" + teacher + ")");
    }

    /** The teacher: the server behind --teacher-url, or the local model loaded as {@code dtype} on {@code device}. */
    public static Teacher openTeacher(GenerateSpec spec, DataType dtype, Device device) {
        if (spec.remote() != null) {
            return RemoteTeacher.connect(
                    spec.remote(), new RemoteSampling(spec.mode() != Mode.SAMPLE, spec.temperature(), spec.topP()));
        }
        return new LocalTeacher(CausalLM.load(spec.teacher(), dtype, device));
    }
}
