package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.data.LogitsSpec;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.LayerTaps;
import dev.distill.model.ModelConfig;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.testing.CliRun;
import dev.distill.trainer.data.BatchTensors;
import dev.distill.trainer.data.MicroBatch;
import dev.distill.trainer.data.PositionedRow;
import dev.distill.trainer.data.RowLimits;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.data.TrainRow;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.DistillObjective;
import dev.distill.trainer.metrics.MetricsLog;
import dev.distill.trainer.online.FeatureProjections;
import dev.distill.trainer.online.OnlineTeacher;
import dev.distill.trainer.optim.Gradients;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code distill train --teacher}: online targets, feature and attention distillation, resume, the saved student. */
class OnlineDistillTest {
    @TempDir
    static Path tmp;

    /** A 2-layer, 4-head (2 KV heads) teacher of the students' width, peaked like {@link TestModels#randomTeacher}. */
    private static Path deepTeacher(Path dir) {
        ModelConfig c = TestModels.studentConfig(TestModels.VOCAB, false).toBuilder()
                .numLayers(2)
                .numHeads(4)
                .numKvHeads(2)
                .build();
        try (CausalLM lm = CausalLM.randomInit(c, 77, DataType.FLOAT32, Device.cpu())) {
            lm.parameters().get("model.embed_tokens.weight").muli(20f);
            lm.parameters().get("lm_head.weight").muli(20f);
            lm.save(dir);
        }
        TestModels.copyTokenizer(dir);
        return dir;
    }

    @Test
    void onlineFullVocabularyKdEqualsOfflineKdWithKEqualToV() {
        Path teacher = SharedData.teacher();
        Path offline = TeacherLabels.generate(
                teacher, tmp.resolve("k-eq-v"), TeacherLabels.fixedLengths(6, 5, 8, TestModels.VOCAB, 11));
        Path student = TestModels.student(tmp.resolve("kd-student"), 3);
        MicroBatch mb = firstRows(offline, 6);
        DistillObjective objective = new DistillObjective(DistillLoss.of("forward-kl", "bucket", 1.0, 0.5), 1, 0);
        Engine engine = Engines.pytorch();
        try (CausalLM s = CausalLM.load(student, DataType.FLOAT32, Device.cpu());
                OnlineTeacher t = OnlineTeacher.load(teacher, "fp32", Device.cpu(), s.config(), 0);
                NDManager m = s.manager().newSubManager()) {
            assertTrue(t.model().packed(), "the online teacher runs oneDNN-packed linear layers (CPU, float32)");
            assertFalse(s.packed(), "the student keeps its live parameters");
            Map<String, NDArray> params = s.parameters();
            params.values().forEach(p -> p.setRequiresGradient(true));
            BatchTensors b = mb.tensors(m, LogitsSpec.topK(mb.topK()));
            OnlineTeacher.Targets online = t.run(b, null);
            assertEquals(
                    List.of((long) mb.trainTokens(), (long) TestModels.VOCAB),
                    List.of(
                            online.ids().getShape().get(0),
                            online.ids().getShape().get(1)));
            float[] lossAndGrads0 = lossAndGradients(engine, s, b, objective, b.topkIds(), b.topkLogprobs(), mb);
            float[] lossAndGrads1 = lossAndGradients(engine, s, b, objective, online.ids(), online.logprobs(), mb);
            assertTrue(lossAndGrads0[0] > 0.5, "a random student is far from the teacher: " + lossAndGrads0[0]);
            float worst = 0;
            for (int i = 0; i < lossAndGrads0.length; i++) {
                worst = Math.max(worst, Math.abs(lossAndGrads0[i] - lossAndGrads1[i]));
            }
            System.out.printf(
                    "online full-vocabulary vs offline k = V: loss %.7f vs %.7f, largest difference over the loss and"
                            + " %d gradient values %.2e%n",
                    lossAndGrads1[0], lossAndGrads0[0], lossAndGrads0.length - 1, worst);
            assertTrue(worst < 1e-5, "loss and gradients differ by " + worst);
        }
    }

    /** [loss, every gradient element in parameter order]; the gradients are zeroed again. */
    private static float[] lossAndGradients(
            Engine engine,
            CausalLM s,
            BatchTensors b,
            DistillObjective objective,
            NDArray ids,
            NDArray logprobs,
            MicroBatch mb) {
        List<Float> out = new ArrayList<>();
        try (GradientCollector c = engine.newGradientCollector()) {
            NDArray logits = CompletionLogits.of(s, b, true);
            NDArray loss = objective
                    .compute(logits, ids, logprobs, b.targets(), b.weights(), mb.trainTokens())
                    .total();
            c.backward(loss);
            out.add(loss.getFloat());
        }
        for (NDArray p : s.parameters().values()) {
            for (float g : Gradients.of(p).toFloatArray()) {
                out.add(g);
            }
        }
        Gradients.zero(s.parameters());
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = out.get(i);
        }
        return a;
    }

    private static MicroBatch firstRows(Path data, int rows) {
        SoftLabelData d = SoftLabelData.open(List.of(data.toString()), "--data");
        RowLimits limits = new RowLimits(TestModels.VOCAB, 256, d.topK(), "student");
        List<TrainRow> out = new ArrayList<>();
        try (RowStream s = RowStream.inOrder(d, rows)) {
            for (PositionedRow p = s.next(); p != null; p = s.next()) {
                out.add(limits.admit(p));
            }
        }
        return new MicroBatch(out, d.topK());
    }

    @Test
    void selfDistillationFromAnExactCopyStartsAtZeroFeatureAndAttentionLoss() {
        Path teacher = TestModels.fixtureTeacher(tmp.resolve("fixture-teacher"));
        Path out = tmp.resolve("self");
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                teacher.toString(),
                "--teacher",
                teacher.toString(),
                "--data",
                SharedData.train().toString(),
                "--out",
                out.toString(),
                "--steps",
                "1",
                "--batch-tokens",
                "256",
                "--lr",
                "1e-4",
                "--feature-loss",
                "mse",
                "--layer-map",
                "auto",
                "--attention-loss",
                "kl",
                "--attention-layers",
                "auto",
                "--value-relation-weight",
                "1",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode step1 = MetricsLog.read(out.resolve(MetricsLog.FILE)).get(0);
        assertTrue(step1.get("feature").asDouble() < 1e-10, step1.toString());
        assertTrue(step1.get("attention").asDouble() < 1e-6, step1.toString());
        assertTrue(step1.get("value_relation").asDouble() < 1e-6, step1.toString());
        assertTrue(step1.get("kd").asDouble() < 1e-5, step1.toString());
    }

    @Test
    void featureDistillationLowersHeldOutHiddenStateDistanceAgainstLogitsOnly() {
        Path teacher = deepTeacher(tmp.resolve("deep-teacher"));
        Path student = TestModels.student(tmp.resolve("feature-student"), 8);
        String[] common = {
            "--student",
            student.toString(),
            "--teacher",
            teacher.toString(),
            "--data",
            SharedData.train().toString(),
            "--steps",
            "20",
            "--batch-tokens",
            "256",
            "--lr",
            "1e-2",
            "--device",
            "cpu"
        };
        Path logitsOnly = tmp.resolve("logits-only");
        Path withFeatures = tmp.resolve("with-features");
        assertEquals(
                0,
                CliRun.of(new TrainCommand(), concat(common, "--out", logitsOnly.toString()))
                        .exitCode());
        CliRun r = CliRun.of(
                new TrainCommand(),
                concat(
                        common,
                        "--out",
                        withFeatures.toString(),
                        "--feature-loss",
                        "mse",
                        "--feature-weight",
                        "20",
                        "--attention-loss",
                        "kl",
                        "--attention-weight",
                        "0.1"));
        assertEquals(0, r.exitCode(), r.err());
        double before = hiddenDistance(student, null, teacher);
        double kdOnly = hiddenDistance(logitsOnly.resolve("checkpoint-20"), null, teacher);
        double feature =
                hiddenDistance(withFeatures.resolve("checkpoint-20"), withFeatures.resolve("checkpoint-20"), teacher);
        double featureRaw = hiddenDistance(withFeatures.resolve("checkpoint-20"), null, teacher);
        System.out.printf(
                "held-out hidden-state MSE (student layer 0 vs teacher layer 1, 20 steps): before %.4f, logits"
                        + " only %.4f, with --feature-loss %.4f through its projection (%.4f without)%n",
                before, kdOnly, feature, featureRaw);
        assertTrue(feature < 0.7 * kdOnly, "feature " + feature + " vs logits only " + kdOnly);
    }

    /**
     * Mean squared distance between the student's layer-0 hidden states, through the projection saved in
     * {@code projections} (identity when null), and the teacher's layer-1 ones, over held-out rows.
     */
    private static double hiddenDistance(Path student, Path projections, Path teacher) {
        MicroBatch mb = firstRows(SharedData.heldOut(), 32);
        try (CausalLM s = CausalLM.load(student, DataType.FLOAT32, Device.cpu());
                CausalLM t = CausalLM.load(teacher, DataType.FLOAT32, Device.cpu());
                NDManager m = s.manager().newSubManager()) {
            BatchTensors b = mb.tensors(m, LogitsSpec.topK(mb.topK()));
            LayerTaps st = new LayerTaps(1, new int[] {0}, new int[0], new int[0]);
            LayerTaps tt = new LayerTaps(2, new int[] {1}, new int[0], new int[0]);
            s.hidden(b.inputIds(), b.positionIds(), b.attentionMask(), null, st);
            t.hidden(b.inputIds(), b.positionIds(), b.attentionMask(), null, tt);
            NDArray mask = b.attentionMask().toType(DataType.FLOAT32, false);
            NDArray hs = st.hidden(0);
            if (projections != null) {
                try (SafetensorsFile f = SafetensorsFile.open(projections.resolve(FeatureProjections.FILE))) {
                    hs = hs.matMul(f.read(FeatureProjections.name(0), DataType.FLOAT32, m)
                            .transpose());
                }
            }
            NDArray perToken = hs.sub(tt.hidden(1)).square().mean(new int[] {-1});
            return perToken.mul(mask).sum().getFloat() / mask.sum().getFloat();
        }
    }

    @Test
    void resumeIsBitwiseWithProjectionsAndTheSavedStudentHasNoProjectionTensors() throws IOException {
        Path teacher = deepTeacher(tmp.resolve("resume-teacher"));
        Path student = TestModels.student(tmp.resolve("resume-student"), 4);
        Path full = tmp.resolve("resume-full");
        String[] args = {
            "--student",
            student.toString(),
            "--teacher",
            teacher.toString(),
            "--data",
            SharedData.train().toString(),
            "--steps",
            "4",
            "--save-every",
            "2",
            "--batch-tokens",
            "256",
            "--lr",
            "1e-2",
            "--shuffle-buffer",
            "8",
            "--ce-weight",
            "0.5",
            "--feature-loss",
            "cosine",
            "--layer-map",
            "0:0",
            "--attention-loss",
            "kl",
            "--value-relation-weight",
            "0.5",
            "--relation-heads",
            "2",
            "--device",
            "cpu"
        };
        assertEquals(
                0,
                CliRun.of(new TrainCommand(), concat(args, "--out", full.toString()))
                        .exitCode());
        Path resumed = tmp.resolve("resume-killed");
        TestModels.copyTree(full.resolve("checkpoint-2"), resumed.resolve("checkpoint-2"));
        Files.copy(full.resolve(MetricsLog.FILE), resumed.resolve(MetricsLog.FILE));
        CliRun r = CliRun.of(new TrainCommand(), concat(args, "--out", resumed.toString(), "--resume"));
        assertEquals(0, r.exitCode(), r.err());

        List<JsonNode> expected = MetricsLog.read(full.resolve(MetricsLog.FILE));
        List<JsonNode> actual = MetricsLog.read(resumed.resolve(MetricsLog.FILE));
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) expected.get(i)).remove("tokens_per_s");
            ((com.fasterxml.jackson.databind.node.ObjectNode) actual.get(i)).remove("tokens_per_s");
            assertEquals(expected.get(i), actual.get(i), "metrics of the resumed run, line " + i);
        }
        for (String key : List.of("loss", "kd", "ce", "feature", "attention", "value_relation")) {
            assertTrue(expected.get(3).get(key).asDouble() > 0, key + " is logged: " + expected.get(3));
        }
        for (String file : List.of(
                "checkpoint-4/model.safetensors",
                "checkpoint-4/optimizer.safetensors",
                "checkpoint-4/" + FeatureProjections.FILE,
                "final/model.safetensors")) {
            assertArrayEquals(Files.readAllBytes(full.resolve(file)), Files.readAllBytes(resumed.resolve(file)), file);
        }
        java.awt.image.BufferedImage png =
                javax.imageio.ImageIO.read(full.resolve("metrics.png").toFile());
        for (int rgb : new int[] {0xff7f0e, 0x2ca02c, 0x9467bd, 0x8c564b, 0xe377c2
        }) { // kd, ce, feature, attention, value relations
            int pixels = 0;
            for (int y = 0; y < png.getHeight() / 2; y++) {
                for (int x = 0; x < png.getWidth(); x++) {
                    pixels += (png.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
                }
            }
            assertTrue(
                    pixels > 50, "the top panel draws the term of colour " + Integer.toHexString(rgb) + ": " + pixels);
        }
        // The projection trains (it is in the optimizer state) but stays out of the model directory.
        try (SafetensorsFile f = SafetensorsFile.open(full.resolve("checkpoint-4/optimizer.safetensors"))) {
            assertTrue(f.tensors().containsKey("exp_avg/" + FeatureProjections.name(0)));
        }
        assertFalse(Files.exists(full.resolve("final/" + FeatureProjections.FILE)));
        Set<String> names;
        try (SafetensorsFile f = SafetensorsFile.open(full.resolve("final/model.safetensors"))) {
            names = new TreeSet<>(f.tensors().keySet());
        }
        Set<String> expectedNames;
        try (SafetensorsFile f = SafetensorsFile.open(student.resolve("model.safetensors"))) {
            expectedNames = new TreeSet<>(f.tensors().keySet());
        }
        assertEquals(expectedNames, names, "final/ holds exactly the student's HF tensors");
        try (CausalLM saved = CausalLM.load(full.resolve("final"), DataType.FLOAT32, Device.cpu())) {
            SavedStudentTest.writePythonCheck(
                    full,
                    SavedStudentTest.logits(saved),
                    SavedStudentTest.PYTHON_CHECK.resolveSibling("online-student-check"));
        }
    }

    /** The GPU path's branches on the CPU: a half-precision teacher and a half-precision student follow the fp32 run. */
    @Test
    void halfPrecisionTeacherAndStudentFollowTheFp32Run() {
        Path teacher = deepTeacher(tmp.resolve("fp16-teacher"));
        Path student = TestModels.student(tmp.resolve("fp16-student"), 6);
        String[] args = {
            "--student",
            student.toString(),
            "--teacher",
            teacher.toString(),
            "--data",
            SharedData.train().toString(),
            "--steps",
            "2",
            "--batch-tokens",
            "256",
            "--lr",
            "1e-3",
            "--feature-loss",
            "mse",
            "--attention-loss",
            "kl",
            "--attention-layers",
            "auto",
            "--device",
            "cpu"
        };
        assertEquals(
                0,
                CliRun.of(
                                new TrainCommand(),
                                concat(args, "--out", tmp.resolve("fp32").toString()))
                        .exitCode());
        CliRun r = CliRun.of(
                new TrainCommand(),
                concat(
                        args,
                        "--out",
                        tmp.resolve("fp16").toString(),
                        "--teacher-dtype",
                        "fp16",
                        "--precision",
                        "fp16"));
        assertEquals(0, r.exitCode(), r.err());
        List<JsonNode> full = MetricsLog.read(tmp.resolve("fp32").resolve(MetricsLog.FILE));
        List<JsonNode> half = MetricsLog.read(tmp.resolve("fp16").resolve(MetricsLog.FILE));
        for (String key : List.of("kd", "feature", "attention")) {
            double a = full.get(0).get(key).asDouble();
            double b = half.get(0).get(key).asDouble();
            assertTrue(a > 0 && Math.abs(a - b) < 0.02 * a, key + ": fp32 " + a + ", fp16 " + b);
        }
        assertFalse(half.get(1).get("skipped").asBoolean(), half.get(1).toString());
    }

    @Test
    void badOnlineOptionsAreRefusedNamingTheOption() {
        Path student = TestModels.student(tmp.resolve("opt-student"), 2);
        String[] base = {
            "--student",
            student.toString(),
            "--data",
            SharedData.train().toString(),
            "--out",
            tmp.resolve("opt-out").toString(),
            "--steps",
            "1",
            "--device",
            "cpu"
        };
        CliRun r = CliRun.of(new TrainCommand(), concat(base, "--feature-loss", "mse"));
        assertEquals(2, r.exitCode());
        assertTrue(
                r.err().startsWith("--feature-loss needs --teacher (the teacher's internals are computed online)"),
                r.err());
        r = CliRun.of(
                new TrainCommand(),
                concat(base, "--teacher", SharedData.teacher().toString(), "--feature-loss", "l1"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("--feature-loss: expected mse or cosine, got 'l1'"), r.err());
        r = CliRun.of(
                new TrainCommand(),
                concat(
                        base,
                        "--teacher",
                        SharedData.teacher().toString(),
                        "--feature-loss",
                        "mse",
                        "--layer-map",
                        "0-1"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("--layer-map: expected auto, last or \"s:t,s:t,...\""), r.err());
        r = CliRun.of(
                new TrainCommand(),
                concat(
                        base,
                        "--teacher",
                        SharedData.teacher().toString(),
                        "--feature-loss",
                        "mse",
                        "--layer-map",
                        "0:5"));
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: --layer-map: teacher layer 5 in '0:5' does not exist (the teacher has layers 0..0)\n",
                r.err());
        r = CliRun.of(
                new TrainCommand(),
                concat(
                        base,
                        "--teacher",
                        SharedData.teacher().toString(),
                        "--value-relation-weight",
                        "1",
                        "--relation-heads",
                        "3"));
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: --relation-heads 3 does not divide the student's value width 16 (1 KV heads x 16)\n",
                r.err());
    }

    /** --data accepts a prompt/response corpus with --teacher: rows are templated and tokenized as score mode does. */
    @Test
    void aJsonlCorpusIsTrainedOnWithTheChatTemplate() throws IOException {
        Path corpus = tmp.resolve("corpus.jsonl");
        Files.writeString(
                corpus,
                String.join(
                                "\n",
                                "{\"prompt\": \"hello there\", \"response\": \"general kenobi\"}",
                                "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"}]}",
                                "{\"text\": \"once upon\", \"response\": \" a time\"}")
                        + "\n");
        Path student = TestModels.student(tmp.resolve("corpus-student"), 9);
        try (dev.distill.tokenizer.HfTokenizer tok = dev.distill.tokenizer.HfTokenizer.load(student);
                CorpusReader reader = new CorpusReader(corpus, student)) {
            List<dev.distill.data.SoftLabelRow> rows = reader.rows;
            assertEquals(3, rows.size());
            List<Map<String, Object>> user = List.of(Map.of("role", "user", "content", "hello there"));
            assertArrayEquals(tok.encodeChat(user, true), rows.get(0).promptIds());
            List<Map<String, Object>> full =
                    List.of(user.get(0), Map.of("role", "assistant", "content", "general kenobi"));
            int[] all = tok.encodeChat(full, false);
            int[] both = concatIds(rows.get(0).promptIds(), rows.get(0).completionIds());
            assertArrayEquals(
                    java.util.Arrays.copyOf(all, both.length),
                    both,
                    "prompt ++ response is the templated conversation");
            assertEquals(0, rows.get(0).topkIds().length, "corpus rows carry no soft labels");
            assertArrayEquals(tok.encode("once upon", true), rows.get(2).promptIds());
            assertArrayEquals(tok.encode(" a time", false), rows.get(2).completionIds());
        }
        Path out = tmp.resolve("corpus-run");
        CliRun r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--teacher",
                SharedData.teacher().toString(),
                "--data",
                corpus.toString(),
                "--out",
                out.toString(),
                "--epochs",
                "2",
                "--batch-tokens",
                "64",
                "--lr",
                "1e-3",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(
                MetricsLog.read(out.resolve(MetricsLog.FILE)).get(0).get("kd").asDouble() > 0);

        r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--data",
                corpus.toString(),
                "--out",
                tmp.resolve("corpus-offline").toString(),
                "--steps",
                "1",
                "--device",
                "cpu");
        assertEquals(1, r.exitCode());
        assertTrue(
                r.err()
                        .contains("--data " + corpus
                                + ": a prompt/response corpus has no soft labels; train on it with an"
                                + " online teacher (--teacher DIR)"),
                r.err());

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"no response\"}\n");
        r = CliRun.of(
                new TrainCommand(),
                "--student",
                student.toString(),
                "--teacher",
                SharedData.teacher().toString(),
                "--data",
                bad.toString(),
                "--out",
                tmp.resolve("bad-run").toString(),
                "--steps",
                "1",
                "--device",
                "cpu");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains(bad + ":2: "), r.err());
    }

    /** The rows a corpus file gives the trainer, read as the trainer reads them. */
    private static final class CorpusReader implements AutoCloseable {
        final List<dev.distill.data.SoftLabelRow> rows = new ArrayList<>();
        private final dev.distill.tokenizer.HfTokenizer tokenizer;

        CorpusReader(Path corpus, Path student) {
            tokenizer = dev.distill.tokenizer.HfTokenizer.load(student);
            dev.distill.prompts.PromptEncoder encoder = new dev.distill.prompts.PromptEncoder(
                    tokenizer,
                    tokenizer.chatTemplate().orElseThrow(),
                    Map.of(),
                    true,
                    true,
                    Integer.MAX_VALUE,
                    id -> id == TeacherLabels.EOS);
            SoftLabelData d = SoftLabelData.open(List.of(corpus.toString()), "--data", encoder);
            try (RowStream s = RowStream.inOrder(d, Long.MAX_VALUE)) {
                for (PositionedRow p = s.next(); p != null; p = s.next()) {
                    rows.add(p.row());
                }
            }
        }

        @Override
        public void close() {
            tokenizer.close();
        }
    }

    private static int[] concatIds(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }
}
