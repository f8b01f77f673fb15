package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.testing.CliRun;
import dev.distill.trainer.checkpoint.CheckpointStore;
import dev.distill.trainer.metrics.MetricsLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run killed after its step-4 checkpoint and resumed with --resume continues exactly as the
 * uninterrupted run: same data order, same losses, same final weights.
 */
class ResumeTest {
    @TempDir
    static Path tmp;

    private static Path student;
    private static Path uninterrupted;

    /** The run's arguments; {@code extra} adds flags or replaces the value of an option given here. */
    private static String[] args(Path out, String... extra) {
        String[] base = {
            "--student",
            student.toString(),
            "--data",
            SharedData.train().toString(),
            "--eval-data",
            SharedData.heldOut().toString(),
            "--eval-every",
            "4",
            "--out",
            out.toString(),
            "--steps",
            "8",
            "--save-every",
            "4",
            "--batch-tokens",
            "256",
            "--lr",
            "1e-2",
            "--warmup-steps",
            "2",
            "--shuffle-buffer",
            "8",
            "--ce-weight",
            "0.5",
            "--device",
            "cpu"
        };
        List<String> all = new java.util.ArrayList<>(List.of(base));
        for (int i = 0; i < extra.length; i++) {
            int at = all.indexOf(extra[i]);
            boolean hasValue = i + 1 < extra.length && !extra[i + 1].startsWith("--");
            if (at >= 0 && hasValue) {
                all.set(at + 1, extra[++i]);
            } else {
                all.add(extra[i]);
            }
        }
        return all.toArray(String[]::new);
    }

    @BeforeAll
    static void trainWithoutInterruption() {
        student = TestModels.student(tmp.resolve("student"), 5);
        uninterrupted = tmp.resolve("uninterrupted");
        CliRun r = CliRun.of(new TrainCommand(), args(uninterrupted));
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void aResumeThatFailsDuringSetUpLeavesNoFileOpen() throws IOException {
        Path out = tmp.resolve("bad-optimizer");
        TestModels.copyTree(uninterrupted.resolve("checkpoint-4"), out.resolve("checkpoint-4"));
        Files.copy(uninterrupted.resolve(MetricsLog.FILE), out.resolve(MetricsLog.FILE));
        Files.writeString(out.resolve("checkpoint-4/" + CheckpointStore.OPTIMIZER_FILE), "not safetensors");
        CliRun r = CliRun.of(new TrainCommand(), args(out, "--resume"));
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().contains(CheckpointStore.OPTIMIZER_FILE), r.err());
        assertEquals(List.of(), openFilesUnder(out), "the metrics writer and the shard readers are closed");
    }

    /** The files under {@code dir} this process has open (Linux: /proc/self/fd). */
    static List<String> openFilesUnder(Path dir) throws IOException {
        List<String> open = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.startsWith(dir) || target.startsWith(SharedData.train())) {
                        open.add(target.toString());
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return open;
    }

    @Test
    void resumedRunReproducesTheUninterruptedRun() throws IOException {
        Path out = tmp.resolve("killed");
        // What a run killed while writing its step-8 checkpoint leaves: checkpoint-4, the metrics of
        // steps 1-8 (the last line torn by the kill) and a half-written checkpoint directory.
        TestModels.copyTree(uninterrupted.resolve("checkpoint-4"), out.resolve("checkpoint-4"));
        Files.copy(uninterrupted.resolve(MetricsLog.FILE), out.resolve(MetricsLog.FILE));
        Files.writeString(out.resolve(MetricsLog.FILE), "{\"step\":9,\"lo", StandardOpenOption.APPEND);
        Files.createDirectories(out.resolve(".checkpoint-8.tmp-123-456"));

        CliRun r = CliRun.of(new TrainCommand(), args(out, "--resume"));
        assertEquals(0, r.exitCode(), r.err());

        List<JsonNode> expected = MetricsLog.read(uninterrupted.resolve(MetricsLog.FILE));
        List<JsonNode> actual = MetricsLog.read(out.resolve(MetricsLog.FILE));
        assertEquals(expected.size(), actual.size(), "metrics lines (8 steps + evals at 0, 4, 8)");
        for (int i = 0; i < expected.size(); i++) {
            JsonNode e = expected.get(i);
            JsonNode a = actual.get(i);
            assertEquals(e.get("step").asLong(), a.get("step").asLong(), "line " + i);
            for (String key : e.path("eval").asBoolean(false)
                    ? List.of("kl", "top1", "ce", "tokens")
                    : List.of("loss", "kd", "ce", "lr", "grad_norm", "tokens", "epoch")) {
                assertEquals(e.get(key).asDouble(), a.get(key).asDouble(), 0.0, "step " + e.get("step") + " " + key);
            }
        }
        assertFalse(Files.exists(out.resolve(".checkpoint-8.tmp-123-456")), "the half-written checkpoint is removed");
        assertTrue(Files.isDirectory(out.resolve("checkpoint-8")));
        assertArrayEquals(
                Files.readAllBytes(uninterrupted.resolve("final/model.safetensors")),
                Files.readAllBytes(out.resolve("final/model.safetensors")),
                "final weights");
        assertArrayEquals(
                Files.readAllBytes(uninterrupted.resolve("checkpoint-8/optimizer.safetensors")),
                Files.readAllBytes(out.resolve("checkpoint-8/optimizer.safetensors")),
                "optimizer state");
    }

    @Test
    void resumeWithOtherTrainingOptionsIsRefused() {
        Path out = tmp.resolve("changed");
        TestModels.copyTree(uninterrupted.resolve("checkpoint-4"), out.resolve("checkpoint-4"));
        CliRun r = CliRun.of(new TrainCommand(), args(out, "--resume", "--lr", "2e-2", "--seed", "3"));
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: cannot resume from " + out.resolve("checkpoint-4") + ": the run was started with other"
                        + " options: lr: 0.01 (checkpoint) vs 0.02 (now); seed: 0 (checkpoint) vs 3 (now). Resume with the"
                        + " original options (see trainer_state.json).\n",
                r.err());
    }

    @Test
    void aNewRunDoesNotOverwriteAFinishedOne() throws IOException {
        byte[] before = Files.readAllBytes(uninterrupted.resolve("checkpoint-8/model.safetensors"));
        CliRun r = CliRun.of(new TrainCommand(), args(uninterrupted));
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: --out " + uninterrupted + " already holds a training run (checkpoint-4, checkpoint-8,"
                        + " metrics.jsonl, final); pass --resume to continue it, or choose a new --out\n",
                r.err());
        assertArrayEquals(before, Files.readAllBytes(uninterrupted.resolve("checkpoint-8/model.safetensors")));
    }
}
