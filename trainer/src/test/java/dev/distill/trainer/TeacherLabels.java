package dev.distill.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TeacherVocab;
import dev.distill.data.TextSpans;
import dev.distill.model.CausalLM;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TokenBytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Soft-label run directories from a teacher's real outputs (the test stand-in for 'distill generate'):
 * random prompts, completions sampled from the teacher at temperature 1, and at every completion
 * position the teacher's top-k log-softmax over the full vocabulary.
 */
final class TeacherLabels {
    static final int EOS = 2;

    /**
     * @param minPrompt shortest prompt; prompts are uniform in [minPrompt, maxPrompt] tokens
     * @param minNew shortest completion budget; budgets are uniform in [minNew, maxNew]
     * @param stopAtEos end a completion at the EOS token (else always run to its budget)
     * @param promptVocab prompts use token ids [3, 3 + promptVocab) only, so contexts recur and a
     *     small student can learn the teacher's behaviour on them
     */
    record Spec(
            int prompts,
            int minPrompt,
            int maxPrompt,
            int minNew,
            int maxNew,
            boolean stopAtEos,
            int topK,
            long seed,
            int shardSize,
            int promptVocab) {}

    private TeacherLabels() {}

    /** Every prompt of the same length and every completion of the same length (no EOS stop). */
    static Spec fixedLengths(int prompts, int promptLen, int completionLen, int topK, long seed) {
        return new Spec(prompts, promptLen, promptLen, completionLen, completionLen, false, topK, seed, 16, 32);
    }

    static Spec varied(int prompts, int topK, long seed) {
        return new Spec(prompts, 3, 10, 4, 16, true, topK, seed, 64, 32);
    }

    static Path generate(Path teacherDir, Path out, Spec spec) {
        return generate(teacherDir, out, spec, false);
    }

    /**
     * @param spans also write the text columns and teacher_vocab.json, as {@code distill generate --store-spans}
     */
    static Path generate(Path teacherDir, Path out, Spec spec, boolean spans) {
        String tokenizerSha = Trainer.tokenizerSha256(teacherDir, "teacher");
        SplittableRandom rng = new SplittableRandom(spec.seed());
        int count = spec.prompts();
        List<int[]> prompts = new ArrayList<>();
        int[] budgets = new int[count];
        for (int i = 0; i < count; i++) {
            int len = spec.minPrompt() + rng.nextInt(spec.maxPrompt() - spec.minPrompt() + 1);
            prompts.add(rng.ints(len, 3, 3 + spec.promptVocab()).toArray());
            budgets[i] = spec.minNew() + rng.nextInt(spec.maxNew() - spec.minNew() + 1);
        }
        Completion[] done = sample(teacherDir, prompts, budgets, spec, rng);
        List<SoftLabelRow> rows = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            Completion c = done[p];
            rows.add(SoftLabelRow.of(
                    p, 0, prompts.get(p), c.ids(), c.logprobs(), c.topkIds(), c.topkLogprobs(), c.finish()));
        }
        if (!spans) {
            return writeRun(out, spec.topK(), tokenizerSha, rows, spec.shardSize(), Integer.MAX_VALUE, spec.seed());
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(teacherDir)) {
            TokenBytes bytes = tokenizer.tokenBytes();
            List<SoftLabelRow> withText = new ArrayList<>();
            for (SoftLabelRow r : rows) {
                int n = r.completionIds()
                        .length; // the stop token that ended a row spans no bytes, as generate writes it
                int[] ends = new int[n];
                boolean stop = r.finishReason().equals(SoftLabelRow.STOP);
                byte[] text = bytes.concat(Arrays.copyOf(r.completionIds(), stop ? n - 1 : n), false, ends);
                if (stop) {
                    ends[n - 1] = text.length;
                }
                String prompt =
                        new String(bytes.concat(r.promptIds(), true, null), java.nio.charset.StandardCharsets.UTF_8);
                withText.add(r.withText(new TextSpans(prompt, text, ends)));
            }
            writeRun(out, spec.topK(), tokenizerSha, withText, spec.shardSize(), Integer.MAX_VALUE, spec.seed());
            byte[][] all = new byte[bytes.size()][];
            List<Integer> special = new ArrayList<>();
            for (int id = 0; id < all.length; id++) {
                all[id] = bytes.bytes(id);
                if (bytes.isSpecial(id)) {
                    special.add(id);
                }
            }
            new TeacherVocab(
                            tokenizerSha,
                            all,
                            special.stream().mapToInt(Integer::intValue).toArray(),
                            new int[] {EOS})
                    .write(RunDirectory.existing(out.toString()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A finished completion with the teacher's numbers at each of its positions. */
    private record Completion(int[] ids, float[] logprobs, int[] topkIds, float[] topkLogprobs, String finish) {}

    private static Completion[] sample(
            Path teacherDir, List<int[]> prompts, int[] budgets, Spec spec, SplittableRandom rng) {
        int rows = prompts.size();
        int k = spec.topK();
        List<List<Integer>> ids = new ArrayList<>();
        List<List<float[]>> lps = new ArrayList<>();
        String[] finish = new String[rows];
        for (int i = 0; i < rows; i++) {
            ids.add(new ArrayList<>());
            lps.add(new ArrayList<>());
        }
        try (CausalLM teacher = CausalLM.load(teacherDir, DataType.FLOAT32, Device.cpu())) {
            while (Arrays.stream(finish).anyMatch(f -> f == null)) {
                int width = 0;
                for (int i = 0; i < rows; i++) {
                    width = Math.max(width, prompts.get(i).length + ids.get(i).size());
                }
                long[] in = new long[rows * width];
                long[] pos = new long[rows * width];
                long[] mask = new long[rows * width];
                int[] last = new int[rows];
                for (int i = 0; i < rows; i++) {
                    int[] p = prompts.get(i);
                    List<Integer> c = ids.get(i);
                    last[i] = p.length + c.size() - 1;
                    for (int j = 0; j < width; j++) {
                        pos[i * width + j] = j;
                        if (j <= last[i]) {
                            in[i * width + j] = j < p.length ? p[j] : c.get(j - p.length);
                            mask[i * width + j] = 1;
                        }
                    }
                }
                float[] logits;
                try (NDManager m = teacher.manager().newSubManager()) {
                    NDArray out = teacher.forward(
                            m.create(in, new Shape(rows, width)),
                            m.create(pos, new Shape(rows, width)),
                            m.create(mask, new Shape(rows, width)),
                            null); // [R, W, V]
                    logits = out.toFloatArray();
                }
                int v = TestModels.VOCAB;
                for (int i = 0; i < rows; i++) {
                    if (finish[i] != null) {
                        continue;
                    }
                    double[] lp = logSoftmax(logits, (i * width + last[i]) * v, v);
                    int token = inverseCdf(lp, rng.nextDouble());
                    ids.get(i).add(token);
                    float[] entry = new float[1 + 2 * k];
                    entry[0] = (float) lp[token];
                    Integer[] order = new Integer[v];
                    for (int j = 0; j < v; j++) {
                        order[j] = j;
                    }
                    Arrays.sort(order, (a, b) -> Double.compare(lp[b], lp[a]));
                    for (int j = 0; j < k; j++) {
                        entry[1 + j] = order[j];
                        entry[1 + k + j] = (float) lp[order[j]];
                    }
                    lps.get(i).add(entry);
                    if (spec.stopAtEos() && token == EOS) {
                        finish[i] = SoftLabelRow.STOP;
                    } else if (ids.get(i).size() == budgets[i]) {
                        finish[i] = SoftLabelRow.LENGTH;
                    }
                }
            }
        }
        Completion[] out = new Completion[rows];
        for (int i = 0; i < rows; i++) {
            int n = ids.get(i).size();
            int[] cIds = ids.get(i).stream().mapToInt(Integer::intValue).toArray();
            float[] cLp = new float[n];
            int[] tIds = new int[n * k];
            float[] tLp = new float[n * k];
            for (int t = 0; t < n; t++) {
                float[] e = lps.get(i).get(t);
                cLp[t] = e[0];
                for (int j = 0; j < k; j++) {
                    tIds[t * k + j] = (int) e[1 + j];
                    tLp[t * k + j] = e[1 + k + j];
                }
            }
            out[i] = new Completion(cIds, cLp, tIds, tLp, finish[i]);
        }
        return out;
    }

    private static double[] logSoftmax(float[] logits, int offset, int v) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            max = Math.max(max, logits[offset + j]);
        }
        double sum = 0;
        for (int j = 0; j < v; j++) {
            sum += Math.exp(logits[offset + j] - max);
        }
        double lse = max + Math.log(sum);
        double[] lp = new double[v];
        for (int j = 0; j < v; j++) {
            lp[j] = logits[offset + j] - lse;
        }
        return lp;
    }

    private static int inverseCdf(double[] lp, double u) {
        double c = 0;
        for (int j = 0; j < lp.length; j++) {
            c += Math.exp(lp[j]);
            if (u < c) {
                return j;
            }
        }
        return lp.length - 1;
    }

    /**
     * Writes rows (one per prompt, prompt_index = position in the list) as a run directory, committing at
     * most {@code committedShards} of its shards.
     */
    static Path writeRun(
            Path out,
            int topK,
            String tokenizerSha,
            List<SoftLabelRow> rows,
            int shardSize,
            int committedShards,
            long seed) {
        return writeRun(out, topK, TestModels.VOCAB, tokenizerSha, rows, shardSize, committedShards, seed);
    }

    /** As above, for a teacher of {@code vocabSize} ids. */
    static Path writeRun(
            Path out,
            int topK,
            int vocabSize,
            String tokenizerSha,
            List<SoftLabelRow> rows,
            int shardSize,
            int committedShards,
            long seed) {
        return writeRun(
                out,
                LogitsSpec.topK(topK),
                ShardMetadata.SCHEMA_VERSION,
                vocabSize,
                tokenizerSha,
                rows,
                shardSize,
                committedShards,
                seed);
    }

    /** As above, for labels of any kind in format {@code version} (1 only for top-k). */
    static Path writeRun(
            Path out,
            LogitsSpec logits,
            int version,
            int vocabSize,
            String tokenizerSha,
            List<SoftLabelRow> rows,
            int shardSize,
            int committedShards,
            long seed) {
        ObjectNode config = new ObjectMapper().createObjectNode();
        config.put("generator", "trainer test");
        config.put("seed", seed);
        config.put("logits", logits.toString());
        if (rows.stream().anyMatch(r -> r.text() != null)) {
            config.put(RunDirectory.STORE_SPANS_KEY, true);
        }
        try {
            RunDirectory run = RunDirectory.open(out.toString(), config, rows.size(), shardSize);
            ShardMetadata meta = new ShardMetadata(
                    version,
                    logits.size(),
                    vocabSize,
                    run.configHash(),
                    "test teacher",
                    "teacher-sha",
                    tokenizerSha,
                    ShardMetadata.NO_CHAT_TEMPLATE,
                    "corpus-sha",
                    logits,
                    LabelEncoding.PLAIN);
            for (int s = 0; s < Math.min(run.shardCount(), committedShards); s++) {
                long[] range = run.shardRange(s);
                try (ShardWriter w = run.openShard(s, meta, 1 << 16)) {
                    for (int p = (int) range[0]; p < range[1]; p++) {
                        w.write(rows.get(p));
                    }
                    w.commit();
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
