package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * `distill generate` killed with SIGKILL mid-run, resumed, and compared byte for byte with an uninterrupted run: the
 * resume guarantee of README "Resume", for any run's arguments.
 */
final class KilledRun {
    private KilledRun() {}

    /**
     * Runs {@code args} (whose {@code --out} is {@code killed}) in a child JVM, kills it with SIGKILL as soon as shard
     * {@code killAfter} is committed, resumes it in-process, runs the same arguments uninterrupted into {@code clean},
     * and asserts that all {@code shards} shards are byte-identical and no temporary file is left.
     */
    static void assertResumesToTheSameBytes(Path tmp, List<String> args, int killAfter, int shards, Path clean)
            throws IOException, InterruptedException {
        Path killed = Path.of(args.get(args.indexOf("--out") + 1));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.pytorch.num_threads=1",
                "-cp",
                System.getProperty("java.class.path"),
                GenerateMain.class.getName()));
        cmd.addAll(args);
        Path log = Files.createTempFile(tmp, "child", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        Process child = pb.start();
        Path first = killed.resolve(part(killAfter));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(first) && System.nanoTime() < deadline && child.isAlive()) {
            Thread.sleep(5);
        }
        child.destroyForcibly(); // SIGKILL
        child.waitFor();
        assertFalse(Files.exists(killed.resolve(part(shards - 1))), "the child finished before it was killed");
        assertTrue(Files.exists(first), "exit " + child.exitValue() + ": " + Files.readString(log));
        String[] resumed = Fixtures.generate(args);
        assertEquals("0", resumed[0], resumed[2]);
        assertTrue(resumed[1].contains("shards: " + shards + "/" + shards + " committed (run complete)"), resumed[1]);
        List<String> cleanArgs = new ArrayList<>(args);
        cleanArgs.set(cleanArgs.indexOf("--out") + 1, clean.toString());
        String[] uninterrupted = Fixtures.generate(cleanArgs);
        assertEquals("0", uninterrupted[0], uninterrupted[2]);
        for (int i = 0; i < shards; i++) {
            assertArrayEquals(
                    Files.readAllBytes(clean.resolve(part(i))), Files.readAllBytes(killed.resolve(part(i))), part(i));
        }
        if (Files.exists(killed.resolve("_tmp"))) {
            try (Stream<Path> s = Files.list(killed.resolve("_tmp"))) {
                assertEquals(0, s.count(), "leftover temp files");
            }
        }
    }

    private static String part(int i) {
        return String.format("part-%05d.parquet", i);
    }
}
