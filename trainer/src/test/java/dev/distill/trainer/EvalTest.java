package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.OpProfiler;
import dev.distill.model.Ops;
import dev.distill.testing.CliRun;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** distill eval: the teacher scored on its own labels is at KL 0 and agrees with itself everywhere. */
class EvalTest {
    @TempDir
    static Path tmp;

    private static Path teacher;
    private static Path labels;

    @BeforeAll
    static void labelsFromTheLlamaFixture() {
        teacher = TestModels.fixtureTeacher(tmp.resolve("teacher"));
        labels = TeacherLabels.generate(teacher, tmp.resolve("labels"), TeacherLabels.varied(24, 16, 4));
    }

    @Test
    void theTeacherOnItsOwnLabelsHasKlZeroAndTop1One() throws IOException {
        CliRun r = evalJson(teacher);
        assertEquals(0, r.exitCode(), r.err());
        JsonNode m = new ObjectMapper().readTree(r.out());
        System.out.println("teacher on its own labels: " + m);
        assertEquals(24, m.get("rows").asLong());
        // zero up to float rounding: the labels and the evaluation pad the rows differently (left vs right), and the
        // fused attention kernel's sums follow the padding (measured: -1.1e-9)
        assertTrue(Math.abs(m.get("kl").asDouble()) < 1e-6, "kl " + m.get("kl"));
        assertEquals(1.0, m.get("top1").asDouble(), 0.0);
        assertEquals(m.get("teacher_ce").asDouble(), m.get("ce").asDouble(), 1e-4, "the model is the teacher");
        assertEquals(teacher.toString(), m.get("model").asText());
    }

    @Test
    void aRandomStudentIsFarFromTheTeacherAndTheTableNamesEveryMetric() {
        Path student = TestModels.student(tmp.resolve("student"), 8);
        CliRun r = CliRun.of(
                new EvalCommand(),
                "--model",
                student.toString(),
                "--data",
                labels.toString(),
                "--device",
                "cpu",
                "--max-rows",
                "5");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(
                List.of("model", "data", "rows", "tokens", "kl", "top1", "ce", "teacher_ce"),
                lines.stream().map(l -> l.split("\\s+")[0]).toList());
        assertEquals("rows        5", lines.get(2));
        double kl = Double.parseDouble(lines.get(4).split("\\s+")[1]);
        assertTrue(kl > 1, "a random student is far from the teacher: kl " + kl);
    }

    /**
     * eval runs the model on oneDNN's packed linear layers (CPU float32): the profiler sees packed_linear calls, none
     * with -Ddistill.linear=matmul, and the metrics are the matmul's within float rounding (~1e-6 relative).
     */
    @Test
    void evalRunsPackedLinearLayersWithTheMatmulsMetrics() throws IOException {
        Path student = TestModels.student(tmp.resolve("student-packed"), 8);
        ProfiledEval packed = profiledEval(student, null, "packed");
        ProfiledEval matmul = profiledEval(student, "matmul", "matmul");
        System.out.println("packed: " + packed + "\nmatmul: " + matmul);
        assertTrue(packed.packedCalls() > 0, "eval packs the model: " + packed);
        assertEquals(0, matmul.packedCalls(), "-Ddistill.linear=matmul keeps the matmul");
        assertEquals(matmul.metrics().get("rows"), packed.metrics().get("rows"));
        assertEquals(matmul.metrics().get("tokens"), packed.metrics().get("tokens"));
        for (String metric : List.of("kl", "top1", "ce", "teacher_ce")) {
            double a = matmul.metrics().get(metric).asDouble();
            double b = packed.metrics().get(metric).asDouble();
            assertEquals(a, b, 1e-5 * Math.max(1, Math.abs(a)), metric);
        }
        assertTrue(matmul.metrics().get("kl").asDouble() > 1, "a random student: metrics far from zero");
    }

    /**
     * A thread the JVM started elsewhere records gradients (libtorch's default): eval turns recording off for its
     * batches, so the packed model runs there too, with the same metrics, and the thread records again afterwards.
     */
    @Test
    void evalOnAThreadThatRecordsGradientsRunsPackedAndRestoresTheMode() throws Exception {
        CliRun here = evalJson(teacher);
        CliRun[] there = new CliRun[1];
        boolean[] modes = new boolean[2];
        Thread t = new Thread(() -> {
            modes[0] = Ops.isGradMode();
            there[0] = evalJson(teacher);
            modes[1] = Ops.isGradMode();
        });
        t.start();
        t.join();
        assertTrue(modes[0], "a new thread records gradients");
        assertEquals(0, there[0].exitCode(), there[0].err());
        assertEquals(
                new ObjectMapper().readTree(here.out()).get("kl").asDouble(),
                new ObjectMapper().readTree(there[0].out()).get("kl").asDouble(),
                1e-9);
        assertTrue(modes[1], "the thread records gradients again after eval");
    }

    /** distill eval of {@code model} on the labels, --json, 64-token batches. */
    private static CliRun evalJson(Path model) {
        return CliRun.of(
                new EvalCommand(),
                "--model",
                model.toString(),
                "--data",
                labels.toString(),
                "--device",
                "cpu",
                "--json",
                "--batch-tokens",
                "64");
    }

    /** eval's --json metrics and how many packed_linear calls libtorch ran. */
    private record ProfiledEval(JsonNode metrics, long packedCalls) {}

    private static ProfiledEval profiledEval(Path model, String linear, String name) throws IOException {
        String before = System.getProperty("distill.linear");
        Path trace = tmp.resolve("eval-" + name + ".json");
        CliRun r;
        try {
            if (linear != null) {
                System.setProperty("distill.linear", linear);
            }
            OpProfiler.start();
            try {
                r = evalJson(model);
            } finally {
                OpProfiler.stop(trace);
            }
        } finally {
            if (before == null) {
                System.clearProperty("distill.linear");
            } else {
                System.setProperty("distill.linear", before);
            }
        }
        assertEquals(0, r.exitCode(), r.err());
        long calls = OpProfiler.topLevel(trace).stream()
                .filter(op -> op.name().equals("packed_linear"))
                .count();
        return new ProfiledEval(new ObjectMapper().readTree(r.out()), calls);
    }

    @Test
    void aModelWithoutTokenizerFilesIsRefused() {
        Path bare = RepoRoot.path().resolve("fixtures/models/llama");
        CliRun r = CliRun.of(
                new EvalCommand(), "--model", bare.toString(), "--data", labels.toString(), "--device", "cpu");
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill eval: model " + bare + " has no tokenizer.json: its tokenizer files are needed to check the"
                        + " soft labels were made with the same tokenizer\n",
                r.err());
    }
}
