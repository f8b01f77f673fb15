package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.TensorInfo;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * save() writes a checkpoint with transformers' file layout and tensor names, and loading it back is
 * exact. The saved directories stay under model/target/roundtrip/ so that
 * {@code tools/scripts/make_model_fixtures.py --check-saved} can load them in transformers.
 */
class SaveLoadTest {
    @TempDir
    Path tmp;

    static Path roundtripDir(String variant) {
        return RepoRoot.path().resolve("model/target/roundtrip").resolve(variant);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "llama",
                "qwen2_fp16_tied",
                "qwen3",
                "mistral_bf16",
                "mistral_sliding",
                "qwen2_sliding",
                "qwen3_layer_types"
            })
    void savedCheckpointHasHfLayoutAndReloadsExactly(String variant) throws IOException {
        Path out = roundtripDir(variant);
        try (CausalLM model = CausalLM.load(Fixtures.model(variant), DataType.FLOAT32, Device.cpu())) {
            model.save(out);
            assertEquals(
                    new TreeSet<>(java.util.List.of("config.json", "generation_config.json", "model.safetensors")),
                    fileNames(out));
            // same tensor names and shapes as the transformers-written fixture (which omits lm_head when tied)
            Map<String, String> saved = tensorShapes(out.resolve("model.safetensors"));
            assertEquals(fixtureTensorShapes(variant), saved);
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertEquals(Map.of("format", "pt"), f.metadata());
                assertTrue(f.tensors().values().stream().allMatch(t -> t.dtype().equals("F32")));
            }
            JsonNode cfg =
                    new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("float32", cfg.get("torch_dtype").asText());
            assertEquals(
                    model.config().architecture(),
                    cfg.get("architectures").get(0).asText());

            try (CausalLM again = CausalLM.load(out, DataType.FLOAT32, Device.cpu())) {
                // the same config, except that the weights are now declared float32
                assertEquals(
                        model.config().toBuilder()
                                .declaredDtype("float32")
                                .build()
                                .toHfJson(),
                        again.config().toHfJson());
                assertParametersIdentical(model, again);
                assertArrayEquals(logits(model), logits(again), "logits after the round trip");
            }
        }
    }

    @Test
    void float16ModelSavesF16TensorsAndReloadsExactly() throws IOException {
        Path out = tmp.resolve("fp16");
        try (CausalLM model = CausalLM.load(Fixtures.model("llama"), DataType.FLOAT16, Device.cpu())) {
            model.save(out);
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertTrue(f.tensors().values().stream().allMatch(t -> t.dtype().equals("F16")));
            }
            JsonNode cfg =
                    new ObjectMapper().readTree(out.resolve("config.json").toFile());
            assertEquals("float16", cfg.get("torch_dtype").asText());
            try (CausalLM again = CausalLM.load(out, DataType.FLOAT16, Device.cpu())) {
                assertParametersIdentical(model, again);
            }
        }
    }

    @Test
    void randomInitModelSurvivesSaveAndLoad() {
        ModelConfig config = ModelConfig.builder("llama")
                .vocabSize(300)
                .hiddenSize(32)
                .intermediateSize(48)
                .numLayers(2)
                .numHeads(4)
                .numKvHeads(2)
                .eosTokenIds(2, 5)
                .bosTokenId(1)
                .rope(RopeConfig.llama3(500000.0, 8, 1, 4, 8192))
                .maxPositionEmbeddings(131072)
                .build();
        Path out = tmp.resolve("init");
        try (CausalLM model = CausalLM.randomInit(config, 7, DataType.FLOAT32, Device.cpu())) {
            model.save(out);
            try (CausalLM again = CausalLM.load(out, DataType.FLOAT32, Device.cpu())) {
                assertEquals(config.toHfJson(), again.config().toHfJson());
                assertArrayEquals(new int[] {2, 5}, again.config().eosTokenIds());
                assertParametersIdentical(model, again);
            }
        }
    }

    static void assertParametersIdentical(CausalLM a, CausalLM b) {
        Map<String, NDArray> pa = a.parameters();
        Map<String, NDArray> pb = b.parameters();
        assertEquals(pa.keySet(), pb.keySet());
        for (String name : pa.keySet()) {
            assertEquals(pa.get(name).getShape(), pb.get(name).getShape(), name);
            assertFalse(pa.get(name) == pb.get(name));
            assertArrayEquals(bits(pa.get(name)), bits(pb.get(name)), name + " differs bitwise");
        }
    }

    private static int[] bits(NDArray a) {
        float[] f = a.toType(DataType.FLOAT32, false).toFloatArray();
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
    }

    private static float[] logits(CausalLM model) {
        Fixtures.Reference ref = Fixtures.reference("llama");
        try (NDManager m = model.manager().newSubManager()) {
            Shape s = new Shape(ref.rows(), ref.width());
            return model.forward(
                            m.create(Fixtures.Reference.flat(ref.inputIds()), s),
                            m.create(Fixtures.Reference.flat(ref.positionIds()), s),
                            m.create(Fixtures.Reference.flat(ref.attentionMask()), s),
                            null)
                    .toFloatArray();
        }
    }

    private static TreeSet<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static Map<String, String> tensorShapes(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> out = new TreeMap<>();
            for (TensorInfo t : f.tensors().values()) {
                out.put(t.name(), t.shapeString());
            }
            return out;
        }
    }

    private static Map<String, String> fixtureTensorShapes(String variant) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(Fixtures.model(variant))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).collect(Collectors.toList())) {
                out.putAll(tensorShapes(p));
            }
        }
        return out;
    }
}
