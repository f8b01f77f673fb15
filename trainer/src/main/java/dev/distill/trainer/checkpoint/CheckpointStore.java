package dev.distill.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.SafetensorsWriter;
import dev.distill.tokenizer.TokenizerFiles;
import dev.distill.trainer.optim.AdamWState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a training run in its output directory: {@code checkpoint-<step>/} (a loadable
 * model directory plus trainer_state.json and optimizer.safetensors), {@code final/} (the
 * finished model) and the finished model's files in the output directory itself. Each is written into a temporary directory and renamed into place, so a crash
 * never leaves a half-written checkpoint under a real name and never touches a finished one.
 */
public final class CheckpointStore {
    public static final String FINAL = "final";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** The student's generation config, copied beside the tokenizer files so every checkpoint is a complete model. */
    private static final String GENERATION_CONFIG = "generation_config.json";

    private static final String PREFIX = "checkpoint-";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    private static final String TMP_MARK = ".tmp-";
    private static final String EXP_AVG = "exp_avg/";
    private static final String EXP_AVG_SQ = "exp_avg_sq/";

    private final Path out;

    public CheckpointStore(Path out) {
        this.out = out;
    }

    /** {@code OUT/checkpoint-<step>}. */
    public Path dir(long step) {
        return out.resolve(PREFIX + step);
    }

    /** {@code OUT/final}. */
    public Path finalDir() {
        return out.resolve(FINAL);
    }

    /** Steps of the finished checkpoints, ascending. */
    public List<Long> steps() {
        if (!Files.isDirectory(out)) {
            return List.of();
        }
        List<Long> steps = new ArrayList<>();
        try (Stream<Path> s = Files.list(out)) {
            s.forEach(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    steps.add(Long.parseLong(m.group(1)));
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot list: " + e.getMessage(), e);
        }
        steps.sort(Comparator.naturalOrder());
        return steps;
    }

    /** The newest finished checkpoint, if any. */
    public Optional<Path> latest() {
        List<Long> s = steps();
        return s.isEmpty() ? Optional.empty() : Optional.of(dir(s.get(s.size() - 1)));
    }

    /** Deletes temporary directories a crashed run left behind (never a finished checkpoint). */
    public void removeIncomplete() {
        if (!Files.isDirectory(out)) {
            return;
        }
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".")
                            && p.getFileName().toString().contains(TMP_MARK))
                    .toList()) {
                deleteTree(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code checkpoint-<step>/}: the master model (config.json, model.safetensors), the
     * tokenizer files of {@code tokenizerDir}, trainer_state.json and optimizer.safetensors.
     */
    public Path save(long step, CausalLM model, Path tokenizerDir, TrainerState state, AdamWState optimizer) {
        return save(step, model, tokenizerDir, state, optimizer, null);
    }

    /**
     * {@link #save(long, CausalLM, Path, TrainerState, AdamWState)} plus trainer-side parameters that are
     * no part of the model (feature projections): {@code extra} writes them into the checkpoint directory.
     *
     * @param extra writes further trainer state into the directory, or null
     */
    public Path save(
            long step,
            CausalLM model,
            Path tokenizerDir,
            TrainerState state,
            AdamWState optimizer,
            Consumer<Path> extra) {
        return publish(PREFIX + step, tmp -> {
            writeModel(tmp, model, tokenizerDir);
            writeOptimizer(tmp.resolve(OPTIMIZER_FILE), optimizer);
            if (extra != null) {
                extra.accept(tmp);
            }
            state.write(tmp);
        });
    }

    /**
     * Writes (or replaces) {@code final/}: the finished model with its tokenizer files and trainer_state.json; then
     * makes {@code OUT} itself that model directory, as Hugging Face Trainer's output directory is
     * ({@code from_pretrained(OUT)}): each file of {@code final/} is hard-linked (copied where the file system has no
     * hard links) into {@code OUT}, replacing the previous one atomically.
     */
    public Path saveFinal(CausalLM model, Path tokenizerDir, TrainerState state) {
        Path dir = publish(FINAL, tmp -> {
            writeModel(tmp, model, tokenizerDir);
            state.write(tmp);
        });
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path link = out.resolve("." + f.getFileName() + TMP_MARK
                        + ProcessHandle.current().pid() + "-" + System.nanoTime());
                try {
                    Files.createLink(link, f);
                } catch (UnsupportedOperationException | IOException e) {
                    Files.copy(f, link, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(
                        link,
                        out.resolve(f.getFileName().toString()),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(out + ": cannot place the final model's files: " + e.getMessage(), e);
        }
        return dir;
    }

    private interface Content {
        void write(Path dir) throws IOException;
    }

    private Path publish(String name, Content content) {
        Path target = out.resolve(name);
        Path tmp = out.resolve("." + name + TMP_MARK + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Path old = out.resolve("." + name + ".old" + TMP_MARK + System.nanoTime());
        try {
            Files.createDirectories(tmp);
            content.write(tmp);
            if (Files.exists(target)) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            if (Files.exists(old)) {
                deleteTree(old);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write the checkpoint: " + e.getMessage(), e);
        }
    }

    private static void writeModel(Path dir, CausalLM model, Path tokenizerDir) throws IOException {
        model.save(dir);
        TokenizerFiles.copy(tokenizerDir, dir);
        Path generation = tokenizerDir.resolve(GENERATION_CONFIG);
        if (Files.isRegularFile(generation)) {
            Files.copy(generation, dir.resolve(GENERATION_CONFIG), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** optimizer.safetensors: fp32 moments named {@code exp_avg/<param>} and {@code exp_avg_sq/<param>}, step in the metadata. */
    static void writeOptimizer(Path file, AdamWState state) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        state.expAvg().forEach((k, v) -> tensors.put(EXP_AVG + k, v));
        state.expAvgSq().forEach((k, v) -> tensors.put(EXP_AVG_SQ + k, v));
        Map<String, String> metadata = new LinkedHashMap<>(); // in a fixed order: the same bytes from every run
        metadata.put("format", "distill-adamw/1");
        metadata.put("step", Long.toString(state.step()));
        SafetensorsWriter.write(file, tensors, metadata);
    }

    /** Reads a checkpoint's optimizer state into {@code manager} (fp32). */
    public static AdamWState readOptimizer(Path checkpointDir, NDManager manager) {
        Path file = checkpointDir.resolve(OPTIMIZER_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": missing; the checkpoint cannot be resumed");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String step = f.metadata().get("step");
            if (step == null || !step.matches("\\d+")) {
                throw new IllegalArgumentException(file + ": metadata 'step' is missing or not a number");
            }
            Map<String, NDArray> m = new LinkedHashMap<>();
            Map<String, NDArray> v = new LinkedHashMap<>();
            for (String name : f.tensors().keySet()) {
                if (name.startsWith(EXP_AVG)) {
                    m.put(name.substring(EXP_AVG.length()), f.read(name, DataType.FLOAT32, manager));
                } else if (name.startsWith(EXP_AVG_SQ)) {
                    v.put(name.substring(EXP_AVG_SQ.length()), f.read(name, DataType.FLOAT32, manager));
                } else {
                    throw new IllegalArgumentException(file + ": unexpected tensor '" + name + "'");
                }
            }
            return new AdamWState(Long.parseLong(step), m, v);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
