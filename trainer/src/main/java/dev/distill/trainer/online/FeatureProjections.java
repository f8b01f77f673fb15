package dev.distill.trainer.online;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The learned linear maps of feature distillation: for each mapped student layer s, a weight
 * {@code feature_proj.<s>.weight} [Ht, Hs] (no bias) taking the student's hidden state to the teacher's
 * width. They train with the student (fp32, AdamW, the same learning rate and clipping), are part of the
 * trainer state ({@code projections.safetensors} in each checkpoint) and never of the model directory.
 *
 * <p>Initialisation: the identity when the widths are equal (a student that is a copy of the teacher
 * starts at loss 0), else normal(0, 1/sqrt(Hs)) drawn from the run's seed (the output keeps the input's scale).
 */
public final class FeatureProjections {
    public static final String FILE = "projections.safetensors";
    private static final String PREFIX = "feature_proj.";

    private final LinkedHashMap<String, NDArray> weights;

    private FeatureProjections(LinkedHashMap<String, NDArray> weights) {
        this.weights = weights;
        weights.values().forEach(w -> w.setRequiresGradient(true));
    }

    /** The parameter name of student layer {@code layer}'s projection. */
    public static String name(int layer) {
        return PREFIX + layer + ".weight";
    }

    /** Fresh projections for the map's student layers, in {@code manager} (the student's device), fp32. */
    public static FeatureProjections init(
            LayerMap map, int studentHidden, int teacherHidden, long seed, NDManager manager) {
        LinkedHashMap<String, NDArray> w = new LinkedHashMap<>();
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (LayerMap.Pair p : map.pairs()) {
            NDArray a;
            if (studentHidden == teacherHidden) {
                a = manager.eye(teacherHidden).toType(DataType.FLOAT32, false); // [Ht, Hs]
            } else {
                float[] v = new float[teacherHidden * studentHidden];
                double std = 1 / Math.sqrt(studentHidden);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rng.nextGaussian() * std);
                }
                a = manager.create(v, new Shape(teacherHidden, studentHidden)); // [Ht, Hs]
            }
            a.setName(name(p.student()));
            w.put(name(p.student()), a);
        }
        return new FeatureProjections(w);
    }

    /**
     * The projections saved in a checkpoint, checked against the map and the widths.
     *
     * @throws IllegalArgumentException naming the file when it is missing or holds other tensors
     */
    public static FeatureProjections read(
            Path checkpointDir, LayerMap map, int studentHidden, int teacherHidden, NDManager manager) {
        Path file = checkpointDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": missing; the checkpoint was not trained with --feature-loss");
        }
        LinkedHashMap<String, NDArray> w = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (LayerMap.Pair p : map.pairs()) {
                String n = name(p.student());
                if (!f.tensors().containsKey(n)) {
                    throw new IllegalArgumentException(file + ": no tensor '" + n + "' for --layer-map " + map);
                }
                NDArray a = f.read(n, DataType.FLOAT32, manager);
                if (!a.getShape().equals(new Shape(teacherHidden, studentHidden))) {
                    throw new IllegalArgumentException(file + ": tensor '" + n + "' has shape " + a.getShape()
                            + ", expected " + new Shape(teacherHidden, studentHidden));
                }
                a.setName(n);
                w.put(n, a);
            }
            if (f.tensors().size() != w.size()) {
                throw new IllegalArgumentException(
                        file + ": holds " + f.tensors().size() + " tensors, --layer-map " + map + " has " + w.size());
            }
        }
        return new FeatureProjections(w);
    }

    /** Writes {@code dir/projections.safetensors}. */
    public void write(Path dir) {
        SafetensorsWriter.write(dir.resolve(FILE), weights, Map.of("format", "distill-feature-projections/1"));
    }

    /** The projection of student layer {@code layer}: [Ht, Hs] float32. */
    public NDArray of(int layer) {
        return weights.get(name(layer));
    }

    /** Every projection by parameter name (the live arrays: the optimizer updates them in place). */
    public Map<String, NDArray> parameters() {
        return weights;
    }
}
