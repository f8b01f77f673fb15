package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.testing.CliRun;
import dev.distill.trainer.metrics.MetricsLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training and eval on every kind of labels: version-1 shards, top-p (variable positions) and sampled labels (the
 * unbiased estimator), each made from the shared top-32 data.
 */
class LabelKindsTrainTest {
    @TempDir
    Path tmp;

    private static List<SoftLabelRow> topK(Path run) throws IOException {
        List<SoftLabelRow> rows = new ArrayList<>();
        for (org.apache.hadoop.fs.Path shard :
                RunDirectory.existing(run.toString()).committedShards()) {
            try (ShardReader reader = ShardReader.open(shard.toString())) {
                reader.forEach(rows::add);
            }
        }
        return rows;
    }

    private static Path write(Path out, LogitsSpec logits, int version, List<SoftLabelRow> rows) {
        String sha = Trainer.tokenizerSha256(SharedData.teacher(), "teacher");
        return TeacherLabels.writeRun(out, logits, version, TestModels.VOCAB, sha, rows, 64, Integer.MAX_VALUE, 0);
    }

    /** Each position's top-32 cut to its smallest prefix reaching mass p. */
    private static SoftLabelRow topP(SoftLabelRow r, double p) {
        int k = SharedData.TOP_K;
        int n = r.completionIds().length;
        int[] sizes = new int[n];
        List<Integer> ids = new ArrayList<>();
        List<Float> lps = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            double mass = 0;
            for (int j = 0; j < k && (j == 0 || mass < p); j++) {
                mass += Math.exp(r.topkLogprobs()[t * k + j]);
                ids.add(r.topkIds()[t * k + j]);
                lps.add(r.topkLogprobs()[t * k + j]);
                sizes[t]++;
            }
        }
        return relabel(r, ids, lps, sizes, null);
    }

    /** N draws per position from the (renormalised) top-32, as distinct ascending ids with counts. */
    private static SoftLabelRow sample(SoftLabelRow r, int draws, SplittableRandom rng) {
        int k = SharedData.TOP_K;
        int n = r.completionIds().length;
        int[] sizes = new int[n];
        List<Integer> ids = new ArrayList<>();
        List<Float> lps = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (int t0 = 0; t0 < n; t0++) {
            final int t = t0;
            double total = 0;
            for (int j = 0; j < k; j++) {
                total += Math.exp(r.topkLogprobs()[t * k + j]);
            }
            int[] hits = new int[k];
            for (int d = 0; d < draws; d++) {
                double u = rng.nextDouble() * total;
                int j = 0;
                for (double c = Math.exp(r.topkLogprobs()[t * k]);
                        c <= u && j < k - 1;
                        c += Math.exp(r.topkLogprobs()[t * k + j])) {
                    j++;
                }
                hits[j]++;
            }
            Integer[] order = new Integer[k];
            for (int j = 0; j < k; j++) {
                order[j] = j;
            }
            Arrays.sort(order, (a, b) -> Integer.compare(r.topkIds()[t * k + a], r.topkIds()[t * k + b]));
            for (int j : order) {
                if (hits[j] > 0) {
                    ids.add(r.topkIds()[t * k + j]);
                    lps.add(r.topkLogprobs()[t * k + j]);
                    counts.add(hits[j]);
                    sizes[t]++;
                }
            }
        }
        return relabel(
                r, ids, lps, sizes, counts.stream().mapToInt(Integer::intValue).toArray());
    }

    private static SoftLabelRow relabel(SoftLabelRow r, List<Integer> ids, List<Float> lps, int[] sizes, int[] counts) {
        float[] lp = new float[lps.size()];
        for (int i = 0; i < lp.length; i++) {
            lp[i] = lps.get(i);
        }
        return SoftLabelRow.of(
                        r.promptIndex(),
                        r.sampleIndex(),
                        r.promptIds(),
                        r.completionIds(),
                        r.completionLogprobs(),
                        ids.stream().mapToInt(Integer::intValue).toArray(),
                        lp,
                        r.finishReason())
                .withLabels(sizes, counts);
    }

    @Test
    void versionOneShardsTrainAndEvaluateExactlyAsVersionTwo() throws IOException {
        List<SoftLabelRow> rows = topK(SharedData.heldOut());
        Path v1 = write(
                tmp.resolve("v1"),
                LogitsSpec.topK(SharedData.TOP_K),
                1,
                rows.stream().map(r -> r.withLabels(null, null)).toList());
        Path v2 = write(tmp.resolve("v2"), LogitsSpec.topK(SharedData.TOP_K), 2, rows);
        Path student = TestModels.student(tmp.resolve("student"), 3);
        JsonNode a = new ObjectMapper()
                .readTree(CliRun.of(
                                new EvalCommand(),
                                "--model",
                                student.toString(),
                                "--data",
                                v1.toString(),
                                "--device",
                                "cpu",
                                "--json")
                        .out());
        JsonNode b = new ObjectMapper()
                .readTree(CliRun.of(
                                new EvalCommand(),
                                "--model",
                                student.toString(),
                                "--data",
                                v2.toString(),
                                "--device",
                                "cpu",
                                "--json")
                        .out());
        for (String metric : List.of("tokens", "kl", "top1", "ce", "teacher_ce")) {
            assertEquals(b.get(metric).asDouble(), a.get(metric).asDouble(), 0.0, metric);
        }
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                v1.toString(),
                "--out",
                tmp.resolve("out").toString(),
                "--steps",
                "2",
                "--batch-tokens",
                "256",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void aCrossTokenizerStudentRefusesTopPAndSampledLabelsNamingLogits() throws IOException {
        List<SoftLabelRow> rows = topK(SharedData.heldOut());
        SplittableRandom rng = new SplittableRandom(4);
        Path student = TestModels.variantStudent(tmp.resolve("variant"));
        for (Path data : List.of(
                write(
                        tmp.resolve("top-p"),
                        LogitsSpec.topP(0.9, SharedData.TOP_K),
                        2,
                        rows.stream().map(r -> topP(r, 0.9)).toList()),
                write(
                        tmp.resolve("sample"),
                        LogitsSpec.sample(16, 1.0),
                        2,
                        rows.stream().map(r -> sample(r, 16, rng)).toList()))) {
            String logits = data.endsWith("top-p") ? "top-p:0.9:" + SharedData.TOP_K : "sample:16:1";
            String expected = "--data " + data + " holds --logits " + logits + " labels; a cross-tokenizer student"
                    + " trains on top-k labels (generate with --logits top-k:K --store-spans)";
            CliRun train = CliRun.of(
                    new TrainCommand(),
                    "--student",
                    student.toString(),
                    "--data",
                    data.toString(),
                    "--out",
                    tmp.resolve("out").toString(),
                    "--steps",
                    "1",
                    "--device",
                    "cpu");
            assertEquals(1, train.exitCode(), train.err());
            assertEquals("distill train: " + expected + "\n", train.err());
            CliRun eval = CliRun.of(
                    new EvalCommand(), "--model", student.toString(), "--data", data.toString(), "--device", "cpu");
            assertEquals(1, eval.exitCode(), eval.err());
            assertTrue(eval.err().contains(expected), eval.err());
        }
    }

    @Test
    void sampledLabelsTrainTheStudentTowardTheTeacher() throws IOException {
        SplittableRandom rng = new SplittableRandom(9);
        List<SoftLabelRow> rows =
                topK(SharedData.train()).stream().map(r -> sample(r, 16, rng)).toList();
        Path data = write(tmp.resolve("sampled"), LogitsSpec.sample(16, 1.0), 2, rows);
        double[] kl = heldOutKl(data, "forward-kl");
        assertTrue(kl[1] < kl[0] - 0.05, "held-out KL " + kl[0] + " -> " + kl[1]);
        // what the estimator cannot train is refused before the first step, naming loss and labels
        CliRun refused = CliRun.of(
                new TrainCommand(),
                "--student",
                TestModels.student(tmp.resolve("s2"), 5).toString(),
                "--data",
                data.toString(),
                "--out",
                tmp.resolve("refused").toString(),
                "--steps",
                "2",
                "--loss",
                "jsd",
                "--device",
                "cpu");
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("--loss jsd cannot train on --logits sample:16:1 labels"), refused.err());
        // eval on sampled labels: the estimate of the KL to the teacher is 0 for the teacher itself (its log-probs
        // are the stored ones); top-1 is against the most likely drawn id, which 16 draws miss now and then
        CliRun eval = CliRun.of(
                new EvalCommand(),
                "--model",
                SharedData.teacher().toString(),
                "--data",
                data.toString(),
                "--device",
                "cpu",
                "--json");
        assertEquals(0, eval.exitCode(), eval.err());
        JsonNode m = new ObjectMapper().readTree(eval.out());
        assertEquals(0.0, m.get("kl").asDouble(), 1e-4);
        assertTrue(m.get("top1").asDouble() > 0.9, m.toString());
    }

    @Test
    void topPLabelsWithVariablePositionsTrain() throws IOException {
        List<SoftLabelRow> rows =
                topK(SharedData.train()).stream().map(r -> topP(r, 0.8)).toList();
        assertTrue(
                rows.stream()
                        .anyMatch(r -> Arrays.stream(r.labelSizes()).distinct().count() > 1),
                "sizes vary");
        Path data = write(tmp.resolve("top-p"), LogitsSpec.topP(0.8, SharedData.TOP_K), 2, rows);
        double[] kl = heldOutKl(data, "reverse-kl");
        assertTrue(kl[1] < kl[0] - 0.05, "held-out KL " + kl[0] + " -> " + kl[1]);
    }

    /** {start, end} held-out KL (top-32 + tail) of a 30-step run on {@code data}. */
    private double[] heldOutKl(Path data, String loss) {
        Path out = tmp.resolve("train-" + data.getFileName());
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                TestModels.student(tmp.resolve("student-" + data.getFileName()), 1)
                        .toString(),
                "--data",
                data.toString(),
                "--eval-data",
                SharedData.heldOut().toString(),
                "--out",
                out.toString(),
                "--steps",
                "30",
                "--batch-tokens",
                "512",
                "--lr",
                "1e-2",
                "--schedule",
                "constant",
                "--device",
                "cpu",
                "--loss",
                loss);
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> evals = MetricsLog.read(out.resolve(MetricsLog.FILE)).stream()
                .filter(l -> l.path("eval").asBoolean(false))
                .toList();
        return new double[] {
            evals.get(0).get("kl").asDouble(),
            evals.get(evals.size() - 1).get("kl").asDouble()
        };
    }
}
