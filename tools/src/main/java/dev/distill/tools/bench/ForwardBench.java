package dev.distill.tools.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.cli.CommandLines;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.KvCache;
import dev.distill.model.ModelConfig;
import dev.distill.model.RopeConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Forward-pass throughput of the model module: prefill (batch x length tokens through the full
 * forward incl. LM head) and cached greedy decode steps, on a randomly initialised ~32M-parameter
 * llama. tools/scripts/bench_forward.py runs the same work in PyTorch/transformers.
 */
@Command(
        name = "forward-bench",
        mixinStandardHelpOptions = true,
        description = "Forward tokens/s of dev.distill.model.CausalLM: prefill and KV-cached decode.")
public final class ForwardBench implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "cpu", description = "cpu, gpu or auto (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--threads", description = "libtorch intra-op threads (default: libtorch's choice)")
    Integer threads;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32 or float16 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--batch", defaultValue = "8")
    int batch;

    @Option(names = "--prefill-len", defaultValue = "256")
    int prefillLen;

    @Option(names = "--prompt-len", defaultValue = "16", description = "prompt before the decode steps")
    int promptLen;

    @Option(names = "--decode-steps", defaultValue = "64")
    int decodeSteps;

    @Option(names = "--repeats", defaultValue = "3", description = "timed repetitions (after one warm-up)")
    int repeats;

    /** hidden 512, 8 layers, 8 heads / 4 KV heads, intermediate 1408, vocab 8192, untied: 32.0M parameters. */
    static ModelConfig benchConfig() {
        return ModelConfig.builder("llama")
                .vocabSize(8192)
                .hiddenSize(512)
                .intermediateSize(1408)
                .numLayers(8)
                .numHeads(8)
                .numKvHeads(4)
                .maxPositionEmbeddings(2048)
                .rmsNormEps(1e-5)
                .rope(RopeConfig.plain(10000.0))
                .eosTokenIds(2)
                .bosTokenId(1)
                .build();
    }

    public static void main(String[] args) {
        System.exit(CommandLines.create(new ForwardBench(), "bench").execute(args));
    }

    @Override
    public Integer call() {
        if (threads != null) {
            System.setProperty("ai.djl.pytorch.num_threads", threads.toString());
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Device dev = Engines.device(device);
        DataType type = dtype.equals("float16") ? DataType.FLOAT16 : DataType.FLOAT32;
        ModelConfig config = benchConfig();
        try (CausalLM model = CausalLM.randomInit(config, 0, type, dev)) {
            System.out.printf(
                    Locale.ROOT,
                    "distill forward bench: %s, %.1fM params, %s %s, threads=%s%n",
                    config.modelType(),
                    config.parameterCount() / 1e6,
                    dev,
                    type,
                    threads == null ? "default" : threads);
            double[] prefill = new double[repeats];
            double[] decode = new double[repeats];
            prefillSeconds(model); // warm-up
            decodeSeconds(model);
            for (int r = 0; r < repeats; r++) {
                prefill[r] = prefillSeconds(model);
                decode[r] = decodeSeconds(model);
            }
            report("prefill", batch + "x" + prefillLen, (double) batch * prefillLen, prefill);
            report("decode", batch + "x" + decodeSteps + " steps", (double) batch * decodeSteps, decode);
        }
        return 0;
    }

    private static void report(String what, String shape, double tokens, double[] seconds) {
        double best = Arrays.stream(seconds).min().orElseThrow();
        double median = Arrays.stream(seconds).sorted().toArray()[seconds.length / 2];
        System.out.printf(
                Locale.ROOT,
                "java %s %s: best %.1f tok/s (%.3f s), median %.1f tok/s%n",
                what,
                shape,
                tokens / best,
                best,
                tokens / median);
    }

    /** One full forward over [batch, prefillLen] random tokens, logits included. */
    private double prefillSeconds(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            NDArray ids = m.create(
                    randomIds(batch * prefillLen, model.config().vocabSize(), 1),
                    new Shape(batch, prefillLen)); // [B, T]
            NDArray pos = m.arange(0, prefillLen, 1, DataType.INT64).broadcast(new Shape(batch, prefillLen)); // [B, T]
            NDArray mask = m.ones(new Shape(batch, prefillLen), DataType.INT64); // [B, T]
            long start = System.nanoTime();
            NDArray logits = model.forward(ids, pos, mask, null); // [B, T, V]
            logits.get(0, 0, 0).getFloat(); // waits for the device
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** A [batch, promptLen] prefill (not timed), then decodeSteps greedy steps of one token per row. */
    private double decodeSeconds(CausalLM model) {
        int capacity = promptLen + decodeSteps;
        try (NDManager m = model.manager().newSubManager();
                KvCache cache = model.newCache(batch, capacity)) {
            NDArray mask = m.ones(new Shape(batch, capacity), DataType.INT64); // [B, capacity]
            NDArray ids = m.create(
                    randomIds(batch * promptLen, model.config().vocabSize(), 2), new Shape(batch, promptLen)); // [B, P]
            NDArray pos = m.arange(0, promptLen, 1, DataType.INT64).broadcast(new Shape(batch, promptLen)); // [B, P]
            long[] next = model.forward(ids, pos, mask.get(":, :" + promptLen), cache)
                    .get(":, -1, :")
                    .argMax(1)
                    .toLongArray(); // [B]
            long start = System.nanoTime();
            for (int step = 0; step < decodeSteps; step++) {
                try (NDManager sm = m.newSubManager()) {
                    int seen = promptLen + step + 1;
                    NDArray in = sm.create(next, new Shape(batch, 1)); // [B, 1]
                    NDArray p = sm.full(new Shape(batch, 1), promptLen + step, DataType.INT64); // [B, 1]
                    NDArray logits = model.forward(in, p, mask.get(":, :" + seen), cache); // [B, 1, V]
                    next = logits.get(":, 0, :").argMax(1).toLongArray(); // [B]
                }
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static long[] randomIds(int n, int vocab, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 3 + r.nextInt(vocab - 3);
        }
        return ids;
    }
}
