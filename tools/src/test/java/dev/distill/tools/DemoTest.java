package dev.distill.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill demo` end to end at a reduced size: the student's held-out KL to the teacher must fall. */
class DemoTest {
    @TempDir
    Path tmp;

    static double kl(String out, String model) {
        Matcher m = Pattern.compile("\\| " + model + " \\| ([0-9.]+) \\|").matcher(out);
        assertTrue(m.find(), "no row for " + model + " in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void demoDistilsTheStudentTowardsTheTeacher() throws Exception {
        Path work = tmp.resolve("demo");
        CliRun r = MainTest.runCli("demo", "--work", work.toString(), "--scale", "0.2", "--device", "cpu");
        String out = r.out();
        assertEquals(0, r.exitCode(), out + r.err());
        double before = kl(out, "student before");
        double after = kl(out, "student after");
        assertTrue(after < 0.5 * before, "KL fell only from " + before + " to " + after);
        assertTrue(kl(out, "teacher") < 1e-4, "the teacher's KL to its own labels must be ~0");
        assertTrue(Files.exists(work.resolve("student/final/model.safetensors")));
        assertTrue(Files.exists(work.resolve("student/final/tokenizer.json")));
        assertTrue(Files.exists(work.resolve("soft-labels/part-00000.parquet")));
        assertTrue(Files.exists(work.resolve("student/metrics.png")));
    }
}
