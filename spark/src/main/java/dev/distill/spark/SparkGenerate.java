package dev.distill.spark;

import ai.djl.ndarray.types.DataType;
import dev.distill.data.RunDirectory;
import dev.distill.model.Engines;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.pipeline.GenerateSummary;
import dev.distill.pipeline.RunInputs;
import dev.distill.prompts.SkipReport;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver of a Spark generate run: resolves the inputs and opens (or resumes) the run directory once, runs one
 * task per missing shard, then rebuilds manifest.json from the committed files.
 */
final class SparkGenerate {
    private static final Logger LOG = LoggerFactory.getLogger(SparkGenerate.class);

    /** What a job did: the `distill generate` summary, plus the shard tasks it ran and how many were retries. */
    record Result(GenerateSummary summary, int tasks, int retried) {
        String format() {
            return summary.format()
                    + String.format(
                            Locale.ROOT, "%n  spark: %d shard tasks, %d retried after a failure", tasks, retried);
        }
    }

    private SparkGenerate() {}

    /** Generates the shards of {@code spec} that are not committed yet. */
    static Result run(JavaSparkContext jsc, GenerateSpec spec, GenerateArgs args) throws IOException {
        DataType dtype = spec.remote() != null
                ? null // a server's dtype is its own
                : Engines.computeDtype(spec.dtype(), TaskDevice.expected(spec.device(), jsc.getConf()));
        RunInputs inputs;
        try (HfTokenizer tokenizer = HfTokenizer.load(spec.tokenizer())) {
            inputs = RunInputs.resolve(spec, dtype, tokenizer);
        }
        RunDirectory run = inputs.open(spec);
        List<Integer> missing = run.pendingShards(spec.numWorkers(), spec.workerIndex());
        LOG.info(
                "{}: {} prompts in {} shards, {} to generate",
                spec.out(),
                run.promptsTotal(),
                run.shardCount(),
                missing.size());
        return runShards(jsc, args, inputs, run, missing);
    }

    /** Runs one task per entry of {@code shards} (normally the missing shards, each once) and summarises. */
    static Result runShards(
            JavaSparkContext jsc, GenerateArgs args, RunInputs inputs, RunDirectory run, List<Integer> shards)
            throws IOException {
        if (shards.isEmpty()) {
            return new Result(GenerateSummary.of(run, new SkipReport(), 0, 0, 0), 0, 0);
        }
        LongAccumulator tokens = jsc.sc().longAccumulator("distill completion tokens");
        long start = System.nanoTime();
        List<ShardOutcome> outcomes;
        try (DriverProgress progress = new DriverProgress(shards.size(), tokens)) {
            jsc.sc().addSparkListener(progress);
            try {
                outcomes = jsc.parallelize(shards, shards.size())
                        .map(new ShardTask(args, inputs, tokens))
                        .collect();
            } finally {
                jsc.sc().removeSparkListener(progress);
            }
        } catch (Exception e) { // a failed job throws SparkException, checked in Scala's eyes but undeclared
            run.refreshManifest(); // record the shards committed before the failure
            throw e;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        SkipReport skips = new SkipReport();
        long prompts = 0;
        long made = 0;
        int retried = 0;
        for (ShardOutcome o : outcomes) {
            o.addSkipsTo(skips);
            prompts += o.prompts();
            made += o.tokens();
            retried += o.attempt() > 0 ? 1 : 0;
        }
        return new Result(GenerateSummary.of(run, skips, prompts, made, seconds), shards.size(), retried);
    }
}
