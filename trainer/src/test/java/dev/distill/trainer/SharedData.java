package dev.distill.trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Teacher and soft-label directories made once per test JVM (generation takes a few seconds) and
 * shared by the test classes; nothing writes into them.
 */
public final class SharedData {
    static final int TOP_K = 32;
    private static Path root;
    private static Path teacher;
    private static Path train;
    private static Path heldOut;
    private static Path fixed;

    private SharedData() {}

    /** {@link TestModels#randomTeacher}. */
    public static synchronized Path teacher() {
        if (teacher == null) {
            teacher = TestModels.randomTeacher(root().resolve("teacher"));
        }
        return teacher;
    }

    /** 256 prompts of 3-10 tokens, completions of 4-16 tokens (EOS stops), top-32. */
    public static synchronized Path train() {
        if (train == null) {
            train = TeacherLabels.generate(teacher(), root().resolve("train"), TeacherLabels.varied(256, TOP_K, 1));
        }
        return train;
    }

    /** 32 other prompts, like {@link #train()}. */
    public static synchronized Path heldOut() {
        if (heldOut == null) {
            heldOut = TeacherLabels.generate(teacher(), root().resolve("held-out"), TeacherLabels.varied(32, TOP_K, 2));
        }
        return heldOut;
    }

    /** 48 prompts of exactly 6 tokens, completions of exactly 10 tokens: 16 tokens a row. */
    public static synchronized Path fixedLengths() {
        if (fixed == null) {
            fixed = TeacherLabels.generate(
                    teacher(), root().resolve("fixed"), TeacherLabels.fixedLengths(48, 6, 10, TOP_K, 3));
        }
        return fixed;
    }

    private static Path root() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("distill-trainer-test-data");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path r = root;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(r)));
        }
        return root;
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }
}
