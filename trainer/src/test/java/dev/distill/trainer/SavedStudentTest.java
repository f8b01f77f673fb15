package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.CommandLines;
import dev.distill.model.CausalLM;
import dev.distill.testing.RepoRoot;
import dev.distill.trainer.checkpoint.CheckpointStore;
import dev.distill.trainer.checkpoint.TrainerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trained student is saved as a loadable model directory whose logits are exactly those of the
 * weights in memory, and training does not accumulate NDArrays from step to step.
 */
class SavedStudentTest {
    /** Where the Python check (tools/scripts/check_student_transformers.py) finds a trained run. */
    static final Path PYTHON_CHECK = RepoRoot.path().resolve("trainer/target/student-check");

    private static final long[] INPUT = {1, 17, 5, 33, 9, 2, 48, 100, 511, 7, 3, 4}; // [1, 12]

    @TempDir
    Path tmp;

    @Test
    void finalModelAndCheckpointsReloadWithIdenticalLogitsAndMemoryStaysFlat() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), TestModels.studentConfig(TestModels.VOCAB, true), 21);
        Path out = tmp.resolve("out");
        TrainCommand cmd = new TrainCommand();
        CommandLines.create(cmd, "distill")
                .parseArgs(
                        "--student",
                        student.toString(),
                        "--data",
                        SharedData.train().toString(),
                        "--out",
                        out.toString(),
                        "--steps",
                        "10",
                        "--save-every",
                        "5",
                        "--batch-tokens",
                        "256",
                        "--lr",
                        "1e-2",
                        "--device",
                        "cpu");
        List<Integer> liveArrays = new ArrayList<>();
        float[] inMemory;
        try (Trainer trainer = Trainer.open(cmd.options().validate())) {
            trainer.afterStep(step -> liveArrays.add(liveArrays()));
            trainer.run();
            inMemory = logits(trainer.student());
        }
        assertEquals(10, liveArrays.size());
        assertEquals(liveArrays.get(2), liveArrays.get(9), "live NDArrays after steps 3..10: " + liveArrays);

        for (Path dir : List.of(out, out.resolve("final"), out.resolve("checkpoint-10"))) {
            try (CausalLM reloaded = CausalLM.load(dir, DataType.FLOAT32, Device.cpu())) {
                assertArrayEquals(inMemory, logits(reloaded), dir + " logits");
            }
        }
        Set<String> model = Set.of(
                "config.json",
                "model.safetensors",
                "generation_config.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
                TrainerState.FILE);
        assertEquals(model, files(out.resolve("final")));
        Set<String> checkpoint = new java.util.HashSet<>(model);
        checkpoint.add(CheckpointStore.OPTIMIZER_FILE);
        assertEquals(checkpoint, files(out.resolve("checkpoint-5")));
        Set<String> root = new java.util.HashSet<>(model);
        root.addAll(Set.of("checkpoint-5", "checkpoint-10", "final", "metrics.jsonl", "metrics.png"));
        assertEquals(root, files(out), "OUT is the final model directory, checkpoints beside it");
        for (String f : model) {
            assertTrue(Files.isSameFile(out.resolve(f), out.resolve("final").resolve(f)), f + " is one file, linked");
        }
        assertArrayEquals(
                Files.readAllBytes(student.resolve("tokenizer.json")),
                Files.readAllBytes(out.resolve("final/tokenizer.json")));
        TrainerState state = TrainerState.read(out.resolve("checkpoint-5"));
        assertEquals(5, state.step());
        assertEquals(10, state.totalSteps());
        assertTrue(state.position().row() > 0);

        writePythonCheck(out, inMemory, PYTHON_CHECK);
    }

    /**
     * Copies a training run's final model (OUT/final, and the files of OUT itself as OUT/out) and its Java logits into
     * {@code checkDir}, where tools/scripts/check_student_transformers.py reads them.
     */
    static void writePythonCheck(Path out, float[] logits, Path checkDir) throws IOException {
        SharedData.deleteTree(checkDir);
        TestModels.copyTree(out.resolve("final"), checkDir.resolve("final"));
        Files.createDirectories(checkDir.resolve("out"));
        try (var files = Files.list(out)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, checkDir.resolve("out").resolve(f.getFileName().toString()));
            }
        }
        ObjectNode ref = new ObjectMapper().createObjectNode();
        var ids = ref.putArray("input_ids");
        for (long id : INPUT) {
            ids.add(id);
        }
        var arr = ref.putArray("logits");
        for (float f : logits) {
            arr.add(f);
        }
        ref.put("vocab_size", TestModels.VOCAB);
        new ObjectMapper().writeValue(checkDir.resolve("java_logits.json").toFile(), ref);
    }

    /** Logits [1, 12, V] of {@link #INPUT}, flattened. */
    static float[] logits(CausalLM model) {
        try (NDManager m = model.manager().newSubManager()) {
            Shape shape = new Shape(1, INPUT.length);
            long[] pos = new long[INPUT.length];
            long[] mask = new long[INPUT.length];
            for (int i = 0; i < pos.length; i++) {
                pos[i] = i;
                mask[i] = 1;
            }
            NDArray out = model.forward(m.create(INPUT, shape), m.create(pos, shape), m.create(mask, shape), null);
            return out.toFloatArray();
        }
    }

    private static int liveArrays() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager().getManagedArrays().size();
        }
    }

    private static Set<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        }
    }
}
