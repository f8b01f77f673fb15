package dev.distill.tools.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.CommandLines;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.model.ModelConfig;
import dev.distill.model.OpProfiler;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tools.Dirs;
import dev.distill.trainer.TrainCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training throughput of `distill train`: synthetic soft labels (random sequences of --len tokens,
 * random top-k), --batch sequences per step, forward KL over the top-k, AdamW, global-norm clip.
 * tools/scripts/bench_torch.py --what train runs the same step in PyTorch.
 */
@Command(
        name = "train-bench",
        mixinStandardHelpOptions = true,
        description = "Training tokens/s of distill train on synthetic top-k labels.")
public final class TrainBench implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "student model directory (with tokenizer files)")
    Path model;

    @Option(names = "--work", required = true, description = "scratch directory")
    Path work;

    @Option(names = "--batch", defaultValue = "16")
    int batch;

    @Option(names = "--len", defaultValue = "512")
    int len;

    @Option(names = "--top-k", defaultValue = "20")
    int topK;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps (after one warm-up step)")
    int steps;

    @Option(names = "--device", defaultValue = "cpu")
    String device;

    @Option(
            names = "--profile",
            description =
                    "directory: record the whole run (use --steps 1) with libtorch's "
                            + "profiler and write its trace and a table of the ops that took the most time (train.json, train.md)")
    Path profile;

    public static void main(String[] args) {
        System.exit(CommandLines.create(new TrainBench(), "bench").execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path data = work.resolve("train-bench-data");
        Path out = work.resolve("train-bench-out");
        for (Path p : List.of(data, out)) {
            Dirs.deleteRecursively(p);
        }
        writeLabels(data);
        if (profile != null) {
            OpProfiler.start();
        }
        int rc = CommandLines.create(new TrainCommand(), "distill")
                .execute(
                        "--student",
                        model.toString(),
                        "--data",
                        data.toString(),
                        "--out",
                        out.toString(),
                        "--steps",
                        String.valueOf(steps + 1),
                        "--batch-tokens",
                        String.valueOf(batch * len),
                        "--lr",
                        "1e-5",
                        "--tail",
                        "zero",
                        "--shuffle-buffer",
                        "1",
                        "--device",
                        device);
        if (profile != null) {
            PipelineBench.writeProfile(profile, "train");
        }
        if (rc != 0) {
            return rc;
        }
        double tokens = 0;
        double seconds = 0;
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode j = json.readTree(line);
            if (!j.path("eval").asBoolean(false) && j.path("step").asInt() > 1) {
                tokens += j.get("input_tokens").asDouble();
                seconds += j.get("tokens").asDouble() / j.get("tokens_per_s").asDouble();
            }
        }
        System.out.printf(Locale.ROOT, "distill train batch=%d len=%d tok/s=%.1f%n", batch, len, tokens / seconds);
        return 0;
    }

    /** One shard of batch x (steps + 1) rows: a 1-token prompt, len-1 completion tokens, random top-k. */
    private void writeLabels(Path dir) throws Exception {
        int vocab = ModelConfig.load(model).vocabSize();
        String tokenizerSha;
        try (HfTokenizer tok = HfTokenizer.load(model)) {
            tokenizerSha = tok.sha256();
        }
        int rows = batch * (steps + 1);
        ObjectNode config = JsonNodeFactory.instance.objectNode().put("synthetic", "train-bench");
        RunDirectory run = RunDirectory.open(dir.toString(), config, rows, rows);
        ShardMetadata meta =
                ShardMetadata.of(topK, vocab, run.configHash(), "synthetic", "none", tokenizerSha, "none", "none");
        Random r = new Random(0);
        try (ShardWriter w = run.openShard(0, meta)) {
            for (int i = 0; i < rows; i++) {
                int n = len - 1;
                int[] completion = r.ints(n, 3, vocab).toArray();
                float[] logp = new float[n];
                Arrays.fill(logp, -1f);
                int[] ids = new int[n * topK];
                float[] lps = new float[n * topK];
                for (int t = 0; t < n; t++) {
                    int[] distinct = r.ints(3, vocab).distinct().limit(topK).toArray();
                    System.arraycopy(distinct, 0, ids, t * topK, topK);
                    for (int j = 0; j < topK; j++) {
                        lps[t * topK + j] = -3f - j * 0.25f; // sorted, mass 0.22 < 1 (the writer checks it)
                    }
                }
                w.write(SoftLabelRow.of(i, 0, new int[] {1}, completion, logp, ids, lps, SoftLabelRow.LENGTH));
            }
            w.commit();
        }
        run.refreshManifest();
    }
}
