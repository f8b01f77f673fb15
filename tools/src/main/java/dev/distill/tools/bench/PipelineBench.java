package dev.distill.tools.bench;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.cuda.CudaUtils;
import dev.distill.cli.CommandLines;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.OpProfiler;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.LocalTeacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.TokenSampler;
import dev.distill.pipeline.WorkItem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Teacher throughput as `distill generate` runs it: greedy decoding that records the top-k at every
 * position, and score mode (one prefill + log-softmax + top-k per position), on random prompts.
 * tools/scripts/bench_torch.py does the same work with transformers; tools/bench runs both.
 */
@Command(
        name = "pipeline-bench",
        mixinStandardHelpOptions = true,
        description = "Generate and score tokens/s of the teacher stage on a model directory.")
public final class PipelineBench implements Callable<Integer> {
    @Option(
            names = "--model",
            required = true,
            description = "model directory (e.g. from distill init-model --preset bench)")
    Path model;

    @Option(names = "--device", defaultValue = "cpu")
    String device;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 or float16")
    String dtype;

    @Option(names = "--what", defaultValue = "generate,score")
    String what;

    @Option(names = "--batches", defaultValue = "1,8,32")
    String batches;

    @Option(names = "--score-batches", description = "batch sizes of the score measurement (default: --batches)")
    String scoreBatches;

    @Option(names = "--prompt-len", defaultValue = "128")
    int promptLen;

    @Option(names = "--new-tokens", defaultValue = "128")
    int newTokens;

    @Option(names = "--score-len", defaultValue = "512")
    int scoreLen;

    @Option(names = "--top-k", defaultValue = "20")
    int topK;

    @Option(
            names = "--profile",
            description = "directory: record each generate and score run with libtorch's profiler and write "
                    + "its trace and a table of the ops that took the most time (score-B.json, score-B.md)")
    Path profile;

    public static void main(String[] args) {
        System.exit(CommandLines.create(new PipelineBench(), "bench").execute(args));
    }

    @Override
    public Integer call() {
        DataType type = dtype.equals("float16") ? DataType.FLOAT16 : DataType.FLOAT32;
        Device dev = Engines.device(device);
        try (LocalTeacher teacher = new LocalTeacher(CausalLM.load(model, type, dev))) {
            // no stop tokens: every row decodes the full length, as the PyTorch loop does
            GenerationParams greedy = new GenerationParams(topK, new TokenSampler(true, 1f, 1f), new int[0]);
            int[] bs = Arrays.stream(batches.split(","))
                    .mapToInt(Integer::parseInt)
                    .toArray();
            if (what.contains("generate")) {
                teacher.generate(items(teacher, 1, 8, 4, false), greedy); // warm-up
                for (int b : bs) {
                    if (profile != null) {
                        OpProfiler.start();
                    }
                    long t0 = System.nanoTime();
                    List<TeacherOutput> out = teacher.generate(items(teacher, b, promptLen, newTokens, false), greedy);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (profile != null) {
                        writeProfile(profile, "generate-" + b);
                    }
                    long tokens = out.stream()
                            .mapToLong(o -> o.completionIds().length)
                            .sum();
                    System.out.printf(
                            Locale.ROOT,
                            "distill generate batch=%d prompt=%d new=%d tok/s=%.1f%n",
                            b,
                            promptLen,
                            newTokens,
                            tokens / s);
                }
            }
            if (what.contains("score")) {
                teacher.score(items(teacher, 1, 8, 8, true), topK);
                for (int b : scoreBatches == null
                        ? bs
                        : Arrays.stream(scoreBatches.split(","))
                                .mapToInt(Integer::parseInt)
                                .toArray()) {
                    List<WorkItem> work = items(teacher, b, 1, scoreLen - 1, true);
                    if (profile != null) {
                        OpProfiler.start();
                    }
                    long t0 = System.nanoTime();
                    teacher.score(work, topK);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (profile != null) {
                        writeProfile(profile, "score-" + b);
                    }
                    System.out.printf(
                            Locale.ROOT,
                            "distill score batch=%d len=%d tok/s=%.1f%n",
                            b,
                            scoreLen,
                            (double) b * scoreLen / s);
                }
            }
        }
        if (dev.isGpu()) {
            MemoryUsage mem = CudaUtils.getGpuMemory(dev);
            System.out.printf(Locale.ROOT, "distill gpu_memory_in_use_mb=%d%n", mem.getCommitted() >> 20);
        }
        return 0;
    }

    /** Stops the profiler, writes NAME.json (the trace) and NAME.md (the ops that took the most time) in {@code dir}. */
    static void writeProfile(Path dir, String name) {
        try {
            Files.createDirectories(dir);
            Path trace = dir.resolve(name + ".json");
            OpProfiler.stop(trace);
            String table = OpProfiler.table(OpProfiler.topLevel(trace), 25);
            Files.writeString(dir.resolve(name + ".md"), table);
            System.err.println(name + ":\n" + table);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code n} random prompts of {@code len} tokens, with a random response of {@code more} tokens when scoring. */
    static List<WorkItem> items(LocalTeacher teacher, int n, int len, int more, boolean score) {
        Random r = new Random(0);
        List<WorkItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = r.ints(len, 3, teacher.vocabSize()).toArray();
            int[] response = score ? r.ints(more, 3, teacher.vocabSize()).toArray() : null;
            items.add(new WorkItem(i, 0, prompt, response, more, WorkItem.rowSeed(0, i, 0)));
        }
        return items;
    }
}
