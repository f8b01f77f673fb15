package dev.distill.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The committed model fixtures (fixtures/models/, made by tools/scripts/make_model_fixtures.py). */
final class Fixtures {
    /** Every variant, one per directory under fixtures/models/. */
    static final List<String> VARIANTS = List.of(
            "llama",
            "llama_linear_tied",
            "mistral_bf16",
            "qwen2_fp16_tied",
            "qwen3",
            "llama_sharded",
            "mistral_sliding",
            "qwen2_sliding",
            "qwen3_layer_types");
    /** The variants whose sliding window (3 to 5) is shorter than their reference sequences. */
    static final List<String> SLIDING = List.of("mistral_sliding", "qwen2_sliding", "qwen3_layer_types");

    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    static Path model(String variant) {
        return RepoRoot.path().resolve("fixtures/models").resolve(variant);
    }

    /** The recorded transformers outputs of a variant. */
    record Reference(
            long[][] inputIds,
            long[][] attentionMask,
            long[][] positionIds,
            float[] logprobs,
            int vocab,
            int[][] greedy,
            int[] eos,
            int pad) {

        int rows() {
            return inputIds.length;
        }

        int width() {
            return inputIds[0].length;
        }

        static long[] flat(long[][] a) {
            return java.util.Arrays.stream(a)
                    .flatMapToLong(java.util.Arrays::stream)
                    .toArray();
        }
    }

    static Reference reference(String variant) {
        Path dir = model(variant);
        try {
            JsonNode j = JSON.readTree(dir.resolve("reference.json").toFile());
            long[][] ids = JSON.treeToValue(j.get("input_ids"), long[][].class);
            long[][] mask = JSON.treeToValue(j.get("attention_mask"), long[][].class);
            long[][] pos = JSON.treeToValue(j.get("position_ids"), long[][].class);
            int[][] greedy = JSON.treeToValue(j.get("greedy"), int[][].class);
            int[] eos = JSON.treeToValue(j.get("eos_token_ids"), int[].class);
            int vocab = j.get("logprobs_shape").get(1).asInt();
            byte[] raw = Files.readAllBytes(dir.resolve(j.get("logprobs_file").asText()));
            float[] logprobs = new float[raw.length / 4];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(logprobs);
            return new Reference(
                    ids,
                    mask,
                    pos,
                    logprobs,
                    vocab,
                    greedy,
                    eos,
                    j.get("pad_token_id").asInt());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
