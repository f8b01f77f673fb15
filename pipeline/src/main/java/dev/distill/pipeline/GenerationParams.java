package dev.distill.pipeline;

import dev.distill.data.LogitsSpec;

/** How a batch is decoded: what is stored of each distribution, the token choice, and which tokens stop a sequence. */
public record GenerationParams(LogitsSpec logits, TokenSampler sampler, int[] eosIds) {

    /** Top-k labels. */
    public GenerationParams(int topK, TokenSampler sampler, int[] eosIds) {
        this(LogitsSpec.topK(topK), sampler, eosIds);
    }

    /** The most entries a position holds. */
    public int topK() {
        return logits.size();
    }

    boolean isEos(int token) {
        for (int e : eosIds) {
            if (e == token) {
                return true;
            }
        }
        return false;
    }
}
