package dev.distill.tools;

import dev.distill.cli.UsageException;
import dev.distill.model.ModelConfig;
import java.util.Arrays;
import java.util.Locale;

/** Named model shapes for `distill init-model`: the demo's teacher and student, and benchmark sizes. */
public enum ModelPreset {
    /** ~0.1M parameters + embeddings: the demo's student and quick tests. */
    TINY("llama", 64, 2, 4, 2, 176, 1024, true),
    /** ~1M parameters + embeddings: the demo's teacher. */
    SMALL("llama", 128, 4, 4, 2, 352, 1024, false),
    /** ~24M parameters + embeddings (~32M at vocabulary 8192): the CPU benchmark config. */
    BENCH("llama", 512, 8, 8, 4, 1408, 2048, false),
    /** The shape of Qwen2-0.5B (vocabulary 151936 unless --vocab-size): the GPU benchmark config. */
    QWEN2_0_5B("qwen2", 896, 24, 14, 2, 4864, 32768, true);

    private final String modelType;
    private final int hidden;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int intermediate;
    private final int context;
    private final boolean tied;

    ModelPreset(
            String modelType,
            int hidden,
            int layers,
            int heads,
            int kvHeads,
            int intermediate,
            int context,
            boolean tied) {
        this.modelType = modelType;
        this.hidden = hidden;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.intermediate = intermediate;
        this.context = context;
        this.tied = tied;
    }

    /** The command-line spelling: tiny, small, bench, qwen2-0.5b. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace("_0_5b", "-0.5b");
    }

    public static ModelPreset parse(String s) {
        return Arrays.stream(values())
                .filter(p -> p.id().equalsIgnoreCase(s.trim()))
                .findFirst()
                .orElseThrow(() -> new UsageException("--preset: expected one of "
                        + Arrays.stream(values()).map(ModelPreset::id).toList() + ", got '" + s + "'"));
    }

    /** This shape with the given vocabulary and special tokens. */
    public ModelConfig config(int vocabSize, int[] eosIds, Integer bosId, Integer padId) {
        return ModelConfig.builder(modelType)
                .vocabSize(vocabSize)
                .hiddenSize(hidden)
                .numLayers(layers)
                .numHeads(heads)
                .numKvHeads(kvHeads)
                .intermediateSize(intermediate)
                .maxPositionEmbeddings(context)
                .tieWordEmbeddings(tied)
                .eosTokenIds(eosIds)
                .bosTokenId(bosId)
                .padTokenId(padId)
                .rmsNormEps(1e-6)
                .build();
    }
}
