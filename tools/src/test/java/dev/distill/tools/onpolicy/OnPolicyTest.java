package dev.distill.tools.onpolicy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.prompts.Corpus;
import dev.distill.testing.CliRun;
import dev.distill.tools.DemoCommand;
import dev.distill.tools.InitModelCommand;
import dev.distill.tools.Main;
import dev.distill.tools.ModelPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `distill onpolicy` on tiny models: the demo's teacher (a 'small' model pretrained briefly by distill itself) and a
 * 'tiny' student of the same tokenizer.
 */
class OnPolicyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path shared;

    static Path teacher;
    static Path student;
    static Path corpus;

    @TempDir
    Path tmp;

    @BeforeAll
    static void models() throws Exception {
        if (teacher != null) {
            return;
        }
        shared = Files.createTempDirectory("onpolicy-test");
        Path dir = shared;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dev.distill.tools.Dirs.deleteRecursively(dir);
            } catch (java.io.IOException ignored) {
                // best effort at exit
            }
        }));
        Path tok = DemoCommand.extractTokenizer(shared.resolve("tokenizer"));
        InitModelCommand.write(ModelPreset.SMALL, tok, shared.resolve("teacher-init"), null, 1);
        Path text = DemoCommand.teacherCorpus(Corpus.samplePath(), tok, shared.resolve("teacher-corpus.jsonl"));
        ok(cli(
                "generate",
                "--teacher",
                shared.resolve("teacher-init").toString(),
                "--prompts",
                text.toString(),
                "--out",
                shared.resolve("teacher-corpus-run").toString(),
                "--mode",
                "score",
                "--top-k",
                "1",
                "--skip-invalid",
                "--device",
                "cpu"));
        ok(cli(
                "train",
                "--student",
                shared.resolve("teacher-init").toString(),
                "--data",
                shared.resolve("teacher-corpus-run").toString(),
                "--out",
                shared.resolve("teacher").toString(),
                "--steps",
                "30",
                "--batch-tokens",
                "2048",
                "--lr",
                "5e-3",
                "--warmup-steps",
                "10",
                "--kd-weight",
                "0",
                "--ce-weight",
                "1",
                "--device",
                "cpu"));
        teacher = shared.resolve("teacher/final");
        InitModelCommand.write(ModelPreset.TINY, tok, shared.resolve("student"), null, 2);
        student = shared.resolve("student");
        // 24 prompts: every round samples the same prompts again (the corpus wraps), so rounds differ by the student
        // only
        corpus = Files.write(
                shared.resolve("prompts.jsonl"),
                Files.readAllLines(Corpus.samplePath()).subList(0, 24));
    }

    static String ok(CliRun r) {
        assertEquals(0, r.exitCode(), "stdout:\n" + r.out() + "\nstderr:\n" + r.err());
        return r.out();
    }

    static CliRun cli(String... args) {
        return CliRun.capture(() -> Main.run(args));
    }

    static List<String> args(Path out, int rounds, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "onpolicy",
                "--teacher",
                teacher.toString(),
                "--student",
                student.toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--rounds",
                Integer.toString(rounds),
                "--prompts-per-round",
                "24",
                "--steps-per-round",
                "10",
                "--max-new-tokens",
                "24",
                "--top-k",
                "16",
                "--lr",
                "2e-3",
                "--schedule",
                "cosine",
                "--warmup-steps",
                "3",
                "--batch-tokens",
                "1024",
                "--device",
                "cpu"));
        a.addAll(List.of(more));
        return a;
    }

    static CliRun run(List<String> args) {
        return cli(args.toArray(String[]::new));
    }

    static JsonNode eval(Path out, int round) throws Exception {
        return JSON.readTree(
                out.resolve(String.format("round-%04d/eval.json", round)).toFile());
    }

    @Test
    void threeRoundsLowerTheStudentsReverseKlOnItsOwnSamples() throws Exception {
        Path out = tmp.resolve("run");
        String summary = ok(run(args(out, 3)));
        // the sampled estimate on fresh samples: round r's samples were drawn by the student after r - 1 rounds
        double[] fresh = new double[3];
        for (int r = 1; r <= 3; r++) {
            JsonNode e = eval(out, r);
            fresh[r - 1] = e.get("before").get("sampled_reverse_kl").asDouble();
            assertTrue(
                    e.get("after").get("sampled_reverse_kl").asDouble() < fresh[r - 1],
                    "round " + r + " trained towards the teacher on its samples: " + e);
        }
        for (int r = 1; r < 3; r++) {
            assertTrue(
                    fresh[r] < fresh[r - 1],
                    "own-sample reverse KL falls round over round: " + java.util.Arrays.toString(fresh));
        }
        assertTrue(summary.contains("| 3 | 24 |"), summary);
        assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size());
        assertTrue(Files.size(out.resolve("metrics.png")) > 1000);
        assertTrue(Files.exists(out.resolve("final/model.safetensors")));
        assertTrue(Files.exists(out.resolve("final/tokenizer.json")));
        JsonNode scores =
                JSON.readTree(out.resolve("round-0002/scores/manifest.json").toFile());
        JsonNode samples =
                JSON.readTree(out.resolve("round-0002/samples/manifest.json").toFile());
        assertEquals(samples.get("config_hash"), scores.get("config").get("responses_config_hash"));
        assertTrue(samples.get("config").get("teacher").asText().endsWith("round-0001/student/final"));

        // rerun: nothing is redone
        CliRun again = run(args(out, 3));
        ok(again);
        assertEquals(12, again.err().split("done already", -1).length - 1, again.err());
        System.err.println(summary);
    }

    /** A finished 2-round run with checkpoints every 2 steps: the reference the interrupted runs must reproduce. */
    static Path clean;

    static synchronized Path clean() throws Exception {
        if (clean == null) {
            clean = shared.resolve("clean");
            ok(run(args(clean, 2, "--save-every", "2")));
        }
        return clean;
    }

    /**
     * The run's outputs by path under its directory: the rows of every committed shard, the final weights and the
     * round prompts. (Shard files also record their inputs' paths in the footer, which differ between directories.)
     */
    static java.util.Map<String, Object> outputs(Path out) throws Exception {
        java.util.Map<String, Object> files = new java.util.TreeMap<>();
        try (var s = Files.walk(out)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = out.relativize(p).toString();
                if (rel.endsWith(".parquet") && !rel.contains("_tmp")) {
                    files.put(rel, rows(p));
                } else if (rel.equals("final/model.safetensors") || rel.endsWith("prompts.jsonl")) {
                    files.put(rel, java.util.HexFormat.of().formatHex(Files.readAllBytes(p)));
                }
            }
        }
        return files;
    }

    static List<dev.distill.data.SoftLabelRow> rows(Path shard) throws Exception {
        List<dev.distill.data.SoftLabelRow> rows = new ArrayList<>();
        try (var reader = dev.distill.data.ShardReader.open(shard.toString())) {
            reader.forEach(rows::add);
        }
        return rows;
    }

    static void assertSameOutputs(Path expected, Path actual) throws Exception {
        java.util.Map<String, Object> a = outputs(expected);
        java.util.Map<String, Object> b = outputs(actual);
        assertEquals(a.keySet(), b.keySet());
        assertTrue(a.containsKey("final/model.safetensors"));
        a.forEach((k, v) -> assertEquals(v, b.get(k), k + " differs"));
    }

    @Test
    void aRunStoppedAfterEachStageResumesToTheSameBytes() throws Exception {
        Path out = tmp.resolve("stopped");
        List<String> stages = List.of(
                "round-0001/samples",
                "round-0001/scores",
                "round-0001/student",
                "round-0001/eval",
                "round-0002/samples",
                "round-0002/student");
        try {
            for (String stage : stages) {
                OnPolicyRun.afterStage = s -> {
                    if (s.equals(stage)) {
                        throw new IllegalStateException("injected failure after " + s);
                    }
                };
                CliRun r = run(args(out, 2, "--save-every", "2"));
                assertEquals(1, r.exitCode(), r.err());
                assertTrue(r.err().contains("injected failure after " + stage), r.err());
                if (stage.equals("round-0001/scores")) {
                    // a changed option is refused, naming it, before any work
                    List<String> changed = args(out, 2, "--save-every", "2");
                    changed.set(changed.indexOf("--lr") + 1, "0.01");
                    CliRun refused = run(changed);
                    assertEquals(1, refused.exitCode());
                    assertTrue(
                            refused.err()
                                    .contains("holds an on-policy run made with other options:"
                                            + " training.lr: 0.002 (run) vs 0.01 (now)"),
                            refused.err());
                }
            }
        } finally {
            OnPolicyRun.afterStage = s -> {};
        }
        CliRun r = run(args(out, 2, "--save-every", "2"));
        ok(r);
        assertEquals(7, r.err().split("done already", -1).length - 1, "finished stages are not redone:\n" + r.err());
        assertSameOutputs(clean(), out);
    }

    @Test
    void killedDuringTrainingResumesFromItsCheckpointToTheSameBytes() throws Exception {
        Path out = tmp.resolve("killed");
        List<String> a = args(out, 2, "--save-every", "2");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.pytorch.num_threads=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName()));
        cmd.addAll(a);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        Process child = pb.start();
        Path checkpoint = out.resolve("round-0001/student/checkpoint-4");
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(300);
        while (!Files.exists(checkpoint) && System.nanoTime() < deadline && child.isAlive()) {
            Thread.sleep(5);
        }
        child.destroyForcibly(); // SIGKILL
        child.waitFor();
        assertTrue(
                Files.exists(checkpoint),
                "exit " + child.exitValue() + ": " + Files.readString(tmp.resolve("child.log")));
        assertFalse(
                Files.exists(out.resolve("round-0001/student/final")), "the child finished training before the kill");
        CliRun r = run(a);
        ok(r);
        assertTrue(r.err().contains("round 1/2 samples: done already"), r.err());
        assertSameOutputs(clean(), out);
    }

    @Test
    void sampledLabelsScoreTheRoundsWhenTheLossSupportsThem() throws Exception {
        Path out = tmp.resolve("sampled");
        List<String> a = args(out, 1, "--logits", "sample:8", "--encoding", "compact");
        a.subList(a.indexOf("--top-k"), a.indexOf("--top-k") + 2).clear();
        // the default loss (jsd) cannot train on sampled labels: refused by the trainer's rule before the first round
        CliRun refused = run(a);
        assertEquals(2, refused.exitCode(), refused.err());
        assertTrue(refused.err().contains("--loss jsd cannot train on --logits sample:8:1 labels"), refused.err());
        assertFalse(Files.exists(out.resolve("round-0001")), "nothing ran");
        List<String> both = new ArrayList<>(a);
        both.addAll(List.of("--top-k", "16", "--loss", "forward-kl"));
        CliRun disagree = run(both);
        assertEquals(2, disagree.exitCode(), disagree.err());
        assertTrue(disagree.err().contains("--top-k 16 and --logits sample:8:1 disagree"), disagree.err());

        a.addAll(List.of("--loss", "forward-kl"));
        ok(run(a));
        Path shard = out.resolve("round-0001/scores/part-00000.parquet");
        try (ShardReader r = ShardReader.open(shard.toString())) {
            assertEquals(LogitsSpec.sample(8, 1.0), r.metadata().logits());
            assertEquals(LabelEncoding.COMPACT, r.metadata().encoding());
            long rows = 0;
            for (SoftLabelRow row : r) {
                int draws = 0;
                for (int c : row.labelCounts()) {
                    draws += c;
                }
                assertEquals(8 * row.completionIds().length, draws);
                rows++;
            }
            assertEquals(24, rows);
        }
        JsonNode line = eval(out, 1);
        assertTrue(line.get("after").get("sampled_reverse_kl").isNumber(), line.toString());
        // a changed --logits or --encoding is refused on resume, naming it
        List<String> changed = new ArrayList<>(a);
        changed.set(changed.indexOf("--logits") + 1, "sample:12");
        CliRun logits = run(changed);
        assertEquals(1, logits.exitCode(), logits.err());
        assertTrue(logits.err().contains("scoring.logits: sample:8:1 (run) vs sample:12:1 (now)"), logits.err());
        changed = new ArrayList<>(a);
        changed.set(changed.indexOf("--encoding") + 1, "plain");
        CliRun encoding = run(changed);
        assertEquals(1, encoding.exitCode(), encoding.err());
        assertTrue(encoding.err().contains("scoring.encoding: compact (run) vs (absent) (now)"), encoding.err());
    }

    @Test
    void usageErrorsNameTheOption() {
        CliRun r = run(List.of(
                "onpolicy",
                "--teacher",
                "t",
                "--teacher-url",
                "http://x",
                "--student",
                "s",
                "--prompts",
                "p",
                "--out",
                "o",
                "--rounds",
                "1",
                "--prompts-per-round",
                "1",
                "--steps-per-round",
                "1"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("give the teacher: --teacher DIR or --teacher-url URL (one of them)"), r.err());
        r = run(List.of(
                "onpolicy",
                "--teacher",
                "t",
                "--student",
                "s",
                "--prompts",
                "p",
                "--out",
                "o",
                "--rounds",
                "0",
                "--prompts-per-round",
                "1",
                "--steps-per-round",
                "1"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--rounds: expected a positive number, got 0"), r.err());
        r = run(List.of(
                "onpolicy",
                "--teacher",
                "t",
                "--student",
                "s",
                "--prompts",
                "p",
                "--out",
                "o",
                "--rounds",
                "1",
                "--prompts-per-round",
                "1",
                "--steps-per-round",
                "1",
                "--offline-data",
                "d",
                "--offline-weight",
                "1.5"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--offline-weight: expected a share in (0, 1), got 1.5"), r.err());
    }

    @Test
    void aRemoteTeacherScoresTheSameAsTheLocalOne() throws Exception {
        Path out = tmp.resolve("remote");
        try (dev.distill.pipeline.LocalTeacher t =
                        new dev.distill.pipeline.LocalTeacher(dev.distill.model.CausalLM.load(
                                teacher, ai.djl.ndarray.types.DataType.FLOAT32, ai.djl.Device.cpu()));
                dev.distill.tokenizer.HfTokenizer tok = dev.distill.tokenizer.HfTokenizer.load(teacher);
                dev.distill.pipeline.serve.CompletionServer server = dev.distill.pipeline.serve.CompletionServer.start(
                        t,
                        tok,
                        new dev.distill.pipeline.serve.CompletionServer.Settings(
                                "teacher", "127.0.0.1", 0, 4096, null))) {
            List<String> a = args(out, 1, "--save-every", "2");
            int i = a.indexOf("--teacher");
            a.set(i, "--teacher-url");
            a.set(i + 1, server.baseUrl());
            a.addAll(List.of("--teacher-model", "teacher"));
            ok(run(a));
        }
        // the same samples (the same student and seed), scored by the server: the same ids, log-probs to fp32
        // rounding (the server batches the rows differently)
        List<dev.distill.data.SoftLabelRow> local = rows(clean().resolve("round-0001/scores/part-00000.parquet"));
        List<dev.distill.data.SoftLabelRow> remote = rows(out.resolve("round-0001/scores/part-00000.parquet"));
        assertEquals(
                rows(clean().resolve("round-0001/samples/part-00000.parquet")),
                rows(out.resolve("round-0001/samples/part-00000.parquet")));
        assertEquals(local.size(), remote.size());
        for (int i = 0; i < local.size(); i++) {
            var x = local.get(i);
            var y = remote.get(i);
            assertEquals(x.sampleId(), y.sampleId());
            assertArrayEquals(x.promptIds(), y.promptIds());
            assertArrayEquals(x.completionIds(), y.completionIds());
            assertArrayEquals(x.completionLogprobs(), y.completionLogprobs(), 1e-4f, x.sampleId());
            assertArrayEquals(x.topkLogprobs(), y.topkLogprobs(), 1e-4f, x.sampleId());
        }
        JsonNode config = JSON.readTree(
                        out.resolve("round-0001/scores/manifest.json").toFile())
                .get("config");
        assertEquals("teacher", config.get("teacher_model").asText());
        assertTrue(Files.exists(out.resolve("final/model.safetensors")));
        assertTrue(Files.exists(out.resolve("round-0001/eval.json")));
    }
}
