package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        CliRun r = CliRun.of(
                new EvalCommand(),
                "--model",
                teacher.toString(),
                "--data",
                labels.toString(),
                "--device",
                "cpu",
                "--json",
                "--batch-tokens",
                "64");
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
