package dev.distill.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.safetensors.SafetensorsFile;
import dev.distill.model.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
                for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).collect(Collectors.toList())) {
                    try (SafetensorsFile f = SafetensorsFile.open(p)) {
                        elements += f.tensors().values().stream().mapToLong(TensorInfo::numel).sum();
                    }
                }
            }
            assertEquals(elements, c.parameterCount(), v);
            assertEquals(elements, ParameterLayout.of(c).stream()
                    .mapToLong(p -> java.util.Arrays.stream(p.shape()).reduce(1, Math::multiplyExact)).sum(), v);
        }
        // transformers' own count, recorded by save_pretrained in the sharded index
        long hfTotal = new ObjectMapper().readTree(Fixtures.model("llama_sharded")
                .resolve("model.safetensors.index.json").toFile()).get("metadata").get("total_parameters").asLong();
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

    @Test
    void builderAppliesTransformersDefaultsAndValidates() {
        ModelConfig q = ModelConfig.builder("qwen3").vocabSize(10).hiddenSize(64).intermediateSize(8).numLayers(1)
                .numHeads(4).build();
        assertEquals(128, q.headDim(), "qwen3 default head_dim");
        assertEquals(4, q.numKvHeads(), "kv heads default to heads");
        assertEquals(32768, q.maxPositionEmbeddings());
        assertEquals(RopeConfig.plain(10000.0), q.rope());
        assertNull(q.declaredDtype());
        assertBuildError(() -> ModelConfig.builder("llama").vocabSize(10).hiddenSize(30).intermediateSize(8)
                .numLayers(1).numHeads(2).build(), "config: head_dim 15 must be even for rotary embeddings");
        assertBuildError(() -> ModelConfig.builder("llama").vocabSize(0).build(),
                "config: vocab_size must be a positive integer, got 0");
        assertBuildError(() -> ModelConfig.builder("gpt2").build(),
                "config: model_type 'gpt2' is not supported (supported: llama, mistral, qwen2, qwen3)");
    }

    private static void assertBuildError(org.junit.jupiter.api.function.Executable build, String message) {
        assertEquals(message, assertThrows(ModelFormatException.class, build).getMessage());
    }

    @Test
    void llama3InverseFrequenciesFollowTransformers() {
        // transformers 5.18 _compute_llama3_parameters(head_dim 16, theta 10000, factor 8, low 1, high 4, original 64)
        float[] expected = {1.0f, 0.24438458681106567f, 0.013042256236076355f, 0.0039528473280370235f,
            0.0012499999720603228f, 0.00039528473280370235f, 0.0001250000059371814f, 3.9528473280370235e-05f};
        float[] got = RopeConfig.llama3(10000.0, 8, 1, 4, 64).inverseFrequencies(16);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], Math.ulp(expected[i]) * 2, "inv_freq[" + i + "]");
        }
    }
}
