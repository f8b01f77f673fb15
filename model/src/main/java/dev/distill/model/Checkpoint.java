package dev.distill.model;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.model.ParameterLayout.Param;
import dev.distill.model.ParameterLayout.Part;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors weights of a model directory: {@code model.safetensors}, or the shards listed in
 * {@code model.safetensors.index.json}. Checks the tensor set against a {@link ParameterLayout}.
 */
final class Checkpoint implements AutoCloseable {
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";

    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private Checkpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.source = source;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** Opens the weights of {@code modelDir} (single file preferred, as transformers does). */
    static Checkpoint open(Path modelDir) {
        Path single = modelDir.resolve(SINGLE);
        Path index = modelDir.resolve(INDEX);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        try {
            if (Files.isRegularFile(single)) {
                SafetensorsFile f = SafetensorsFile.open(single);
                files.add(f);
                f.tensors().keySet().forEach(n -> byTensor.put(n, f));
                return new Checkpoint(single, files, byTensor);
            }
            if (!Files.isRegularFile(index)) {
                throw new ModelFormatException(modelDir + ": no " + SINGLE + " or " + INDEX);
            }
            Map<String, String> weightMap = readWeightMap(index);
            Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
            for (String shard : new LinkedHashSet<>(weightMap.values())) {
                Path p = modelDir.resolve(shard);
                if (!Files.isRegularFile(p)) {
                    throw new ModelFormatException(index + ": shard '" + shard + "' does not exist");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                shards.put(shard, f);
                for (String name : f.tensors().keySet()) {
                    SafetensorsFile prev = byTensor.put(name, f);
                    if (prev != null) {
                        throw new ModelFormatException(index + ": tensor '" + name + "' is in both "
                                + prev.path().getFileName() + " and " + shard);
                    }
                }
            }
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                if (byTensor.get(e.getKey()) != shards.get(e.getValue())) {
                    throw new ModelFormatException(modelDir.resolve(e.getValue()) + ": no tensor '" + e.getKey()
                            + "' (listed in " + INDEX + ")");
                }
            }
            return new Checkpoint(index, files, byTensor);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode map = ModelConfig.readJson(index).get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(index + ": missing object 'weight_map'");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /**
     * Fails unless the checkpoint holds exactly the tensors of {@code layout} with their shapes.
     * Tolerated extras: {@code lm_head.weight} with tied embeddings, and rotary inv_freq buffers.
     */
    void validate(List<Param> layout) {
        Map<String, Part> expected = new LinkedHashMap<>();
        layout.forEach(p -> p.parts().forEach(part -> expected.put(part.hfName(), part)));
        List<String> missing = new ArrayList<>();
        for (Part part : expected.values()) {
            if (!byTensor.containsKey(part.hfName())) {
                missing.add(part.hfName());
            }
        }
        if (!missing.isEmpty()) {
            Part first = expected.get(missing.get(0));
            throw new ModelFormatException(source + ": missing tensor '" + first.hfName() + "' "
                    + Arrays.toString(first.shape())
                    + (missing.size() > 1 ? " (and " + (missing.size() - 1) + " more)" : ""));
        }
        boolean tied = !expected.containsKey("lm_head.weight");
        Set<String> unexpected = new LinkedHashSet<>(byTensor.keySet());
        unexpected.removeAll(expected.keySet());
        unexpected.removeIf(n -> n.endsWith("rotary_emb.inv_freq") || (tied && n.equals("lm_head.weight")));
        if (!unexpected.isEmpty()) {
            String first = unexpected.iterator().next();
            throw new ModelFormatException(byTensor.get(first).path() + ": unexpected tensor '" + first + "'"
                    + (unexpected.size() > 1 ? " (and " + (unexpected.size() - 1) + " more)" : ""));
        }
        for (Part part : expected.values()) {
            SafetensorsFile f = byTensor.get(part.hfName());
            TensorInfo info = f.info(part.hfName());
            if (!Arrays.equals(info.shape(), part.shape())) {
                throw new ModelFormatException(f.path() + ": tensor '" + part.hfName() + "' has shape "
                        + info.shapeString() + ", expected " + Arrays.toString(part.shape()));
            }
        }
    }

    /** Copies checkpoint tensor {@code hfName} into elements [offset, offset + numel) of {@code dest}. */
    void readInto(String hfName, NDArray dest, long offset) {
        byTensor.get(hfName).readInto(hfName, dest, offset);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
