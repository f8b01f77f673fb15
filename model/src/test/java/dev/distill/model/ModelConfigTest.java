package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
    @Test
    void transformers5ConfigWithLlama3RopeAndGenerationConfigEos() {
        ModelConfig c = ModelConfig.load(Fixtures.model("llama"));
        assertEquals("llama", c.modelType());
        assertEquals(512, c.vocabSize());
        assertEquals(64, c.hiddenSize());
        assertEquals(128, c.intermediateSize());
        assertEquals(2, c.numLayers());
        assertEquals(4, c.numHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(256, c.maxPositionEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(RopeConfig.llama3(10000.0, 8.0, 1.0, 4.0, 64), c.rope());
        assertFalse(c.tieWordEmbeddings());
        assertArrayEquals(new int[] {2, 7}, c.eosTokenIds(), "config eos 2 plus generation_config eos [2, 7]");
        assertEquals(OptionalInt.of(1), c.bosTokenId());
        assertEquals(OptionalInt.of(0), c.padTokenId());
        assertEquals("float32", c.declaredDtype());
        assertEquals("LlamaForCausalLM", c.architecture());
    }

    @Test
    void transformers4ConfigsWithRopeScalingTypeKeyAndTorchDtype() {
        ModelConfig linear = ModelConfig.load(Fixtures.model("llama_linear_tied"));
        assertEquals(RopeConfig.linear(500.0, 4.0), linear.rope());
        assertTrue(linear.tieWordEmbeddings());
        assertEquals("float32", linear.declaredDtype());
        ModelConfig mistral = ModelConfig.load(Fixtures.model("mistral_bf16"));
        assertEquals(RopeConfig.plain(1000000.0), mistral.rope());
        assertEquals(OptionalInt.of(4096), mistral.slidingWindow());
        assertEquals("bfloat16", mistral.declaredDtype());
        ModelConfig qwen3 = ModelConfig.load(Fixtures.model("qwen3"));
        assertEquals(24, qwen3.headDim());
        assertTrue(qwen3.qkNorm());
        assertFalse(qwen3.qkvBias());
        assertEquals(OptionalInt.empty(), qwen3.slidingWindow());
        assertTrue(ModelConfig.load(Fixtures.model("qwen2_fp16_tied")).qkvBias());
    }

    @Test
    void parameterCountIsTheNumberOfCheckpointElements() throws IOException {
        for (String v : Fixtures.VARIANTS) {
            ModelConfig c = ModelConfig.load(Fixtures.model(v));
            long elements = 0;
            try (Stream<Path> s = Files.list(Fixtures.model(v))) {
                for (Path p :
                        s.filter(p -> p.toString().endsWith(".safetensors")).collect(Collectors.toList())) {
                    try (SafetensorsFile f = SafetensorsFile.open(p)) {
                        elements += f.tensors().values().stream()
                                .mapToLong(TensorInfo::numel)
                                .sum();
                    }
                }
            }
            assertEquals(elements, c.parameterCount(), v);
            assertEquals(
                    elements,
                    ParameterLayout.of(c).stream()
                            .mapToLong(p -> java.util.Arrays.stream(p.shape()).reduce(1, Math::multiplyExact))
                            .sum(),
                    v);
        }
        // transformers' own count, recorded by save_pretrained in the sharded index
        long hfTotal = new ObjectMapper()
                .readTree(Fixtures.model("llama_sharded")
                        .resolve("model.safetensors.index.json")
                        .toFile())
                .get("metadata")
                .get("total_parameters")
                .asLong();
        assertEquals(hfTotal, ModelConfig.load(Fixtures.model("llama_sharded")).parameterCount());
    }

    @Test
    void hfJsonParsesBackToTheSameConfig() {
        for (String v : Fixtures.VARIANTS) {
            ModelConfig c = ModelConfig.load(Fixtures.model(v));
            ModelConfig again = ModelConfig.fromJson(c.toHfJson(), "saved");
            assertEquals(c.toHfJson(), again.toHfJson(), v);
            assertEquals(c.rope(), again.rope(), v);
        }
    }

    static final String FULL = ModelConfig.FULL_ATTENTION;
    static final String SLIDING = ModelConfig.SLIDING_ATTENTION;

    @Test
    void slidingWindowsAndLayerTypesAsTransformersDerivesThem() {
        ModelConfig mistral = ModelConfig.load(Fixtures.model("mistral_sliding"));
        assertEquals(OptionalInt.of(5), mistral.slidingWindow());
        assertEquals(List.of(SLIDING, SLIDING), mistral.layerTypes(), "mistral: every layer");
        ModelConfig qwen2 = ModelConfig.load(Fixtures.model("qwen2_sliding"));
        assertEquals(OptionalInt.of(4), qwen2.slidingWindow());
        assertEquals(List.of(FULL, SLIDING), qwen2.layerTypes(), "layers from max_window_layers 1 on");
        assertEquals(1, qwen2.maxWindowLayers());
        ModelConfig qwen3 = ModelConfig.load(Fixtures.model("qwen3_layer_types"));
        assertEquals(OptionalInt.of(3), qwen3.slidingWindow());
        assertEquals(28, qwen3.maxWindowLayers());
        assertEquals(List.of(SLIDING, FULL), qwen3.layerTypes(), "explicit layer_types win over max_window_layers");
        assertTrue(qwen3.slidingLayer(0));
        assertFalse(qwen3.slidingLayer(1));
        assertEquals(
                List.of(FULL, FULL), ModelConfig.load(Fixtures.model("qwen3")).layerTypes());
        assertEquals(
                List.of(FULL, FULL), ModelConfig.load(Fixtures.model("llama")).layerTypes());

        // derived types follow the layer count; explicit ones do not
        assertEquals(
                List.of(FULL, SLIDING, SLIDING),
                qwen2.toBuilder().numLayers(3).build().layerTypes());
        assertBuildError(
                () -> qwen3.toBuilder().source("c").numLayers(3).build(),
                "c: layer_types has 2 entries, num_hidden_layers is 3");
        // an explicit list equal to the derived one (as transformers 5 writes it) is not pinned
        assertEquals(
                List.of(FULL, FULL, FULL),
                ModelConfig.load(Fixtures.model("qwen3")).toBuilder()
                        .numLayers(3)
                        .build()
                        .layerTypes());

        ObjectNode base = ModelConfig.load(Fixtures.model("qwen2_sliding")).toHfJson();
        // use_sliding_window without sliding_window: transformers' default window 4096; without the flag: none
        ModelConfig c = ModelConfig.fromJson(base.deepCopy().without("sliding_window"), "x");
        assertEquals(OptionalInt.of(4096), c.slidingWindow());
        assertEquals(List.of(FULL, SLIDING), c.layerTypes());
        ObjectNode off = base.deepCopy().put("use_sliding_window", false);
        off.remove("layer_types");
        c = ModelConfig.fromJson(off, "x");
        assertEquals(OptionalInt.empty(), c.slidingWindow());
        assertEquals(List.of(FULL, FULL), c.layerTypes());
        ObjectNode noMax = base.deepCopy();
        noMax.remove(List.of("max_window_layers", "layer_types"));
        assertEquals(List.of(FULL, FULL), ModelConfig.fromJson(noMax, "x").layerTypes(), "max_window_layers 28");
        // mistral, like transformers, checks layer_types but slides on every layer; llama ignores them too
        ObjectNode m = mistral.toHfJson();
        m.putArray("layer_types").add(FULL).add(FULL);
        assertEquals(List.of(SLIDING, SLIDING), ModelConfig.fromJson(m, "x").layerTypes());
        assertEquals(
                OptionalInt.empty(),
                ModelConfig.fromJson(m.putNull("sliding_window"), "x").slidingWindow());
    }

    @Test
    void slidingWindowFieldsSurviveTheHfJsonRoundTrip() {
        ObjectNode qwen3 = ModelConfig.load(Fixtures.model("qwen3_layer_types")).toHfJson();
        assertTrue(qwen3.get("use_sliding_window").asBoolean());
        assertEquals(3, qwen3.get("sliding_window").asInt());
        assertEquals(28, qwen3.get("max_window_layers").asInt());
        assertEquals(
                "[\"sliding_attention\",\"full_attention\"]",
                qwen3.get("layer_types").toString());
        ObjectNode qwen2 = ModelConfig.load(Fixtures.model("qwen2_sliding")).toHfJson();
        assertEquals(1, qwen2.get("max_window_layers").asInt());
        assertEquals(
                "[\"full_attention\",\"sliding_attention\"]",
                qwen2.get("layer_types").toString());
        ObjectNode plain = ModelConfig.load(Fixtures.model("qwen2_fp16_tied")).toHfJson();
        assertFalse(plain.get("use_sliding_window").asBoolean());
        assertTrue(plain.get("sliding_window").isNull());
        ObjectNode mistral = ModelConfig.load(Fixtures.model("mistral_sliding")).toHfJson();
        assertEquals(5, mistral.get("sliding_window").asInt());
        assertFalse(mistral.has("layer_types"));
        for (String v : Fixtures.SLIDING) {
            ModelConfig c = ModelConfig.load(Fixtures.model(v));
            ModelConfig again = ModelConfig.fromJson(c.toHfJson(), "saved");
            assertEquals(c.slidingWindow(), again.slidingWindow(), v);
            assertEquals(c.layerTypes(), again.layerTypes(), v);
        }
    }

    @Test
    void builderAppliesTransformersDefaultsAndValidates() {
        ModelConfig q = ModelConfig.builder("qwen3")
                .vocabSize(10)
                .hiddenSize(64)
                .intermediateSize(8)
                .numLayers(1)
                .numHeads(4)
                .build();
        assertEquals(128, q.headDim(), "qwen3 default head_dim");
        assertEquals(4, q.numKvHeads(), "kv heads default to heads");
        assertEquals(32768, q.maxPositionEmbeddings());
        assertEquals(RopeConfig.plain(10000.0), q.rope());
        assertNull(q.declaredDtype());
        assertBuildError(
                () -> ModelConfig.builder("llama")
                        .vocabSize(10)
                        .hiddenSize(30)
                        .intermediateSize(8)
                        .numLayers(1)
                        .numHeads(2)
                        .build(),
                "config: head_dim 15 must be even for rotary embeddings");
        assertBuildError(
                () -> ModelConfig.builder("llama").vocabSize(0).build(),
                "config: vocab_size must be a positive integer, got 0");
        assertBuildError(
                () -> ModelConfig.builder("llama")
                        .vocabSize(10)
                        .hiddenSize(32)
                        .intermediateSize(8)
                        .numLayers(1)
                        .numHeads(2)
                        .slidingWindow(8)
                        .build(),
                "config: sliding_window is not supported for llama");
        assertBuildError(
                () -> ModelConfig.builder("gpt2").build(),
                "config: model_type 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3)");
    }

    private static void assertBuildError(org.junit.jupiter.api.function.Executable build, String message) {
        assertEquals(message, assertThrows(ModelFormatException.class, build).getMessage());
    }

    @Test
    void llama3InverseFrequenciesFollowTransformers() {
        // transformers 5.18 _compute_llama3_parameters(head_dim 16, theta 10000, factor 8, low 1, high 4, original 64)
        float[] expected = {
            1.0f,
            0.24438458681106567f,
            0.013042256236076355f,
            0.0039528473280370235f,
            0.0012499999720603228f,
            0.00039528473280370235f,
            0.0001250000059371814f,
            3.9528473280370235e-05f
        };
        float[] got = RopeConfig.llama3(10000.0, 8, 1, 4, 64).inverseFrequencies(16);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], Math.ulp(expected[i]) * 2, "inv_freq[" + i + "]");
        }
    }
}
