package dev.distill.pipeline;

/** How a batch is decoded: top-k recorded, the token choice, and which tokens stop a sequence. */
public record GenerationParams(int topK, TokenSampler sampler, int[] eosIds) {

    boolean isEos(int token) {
        for (int e : eosIds) {
            if (e == token) {
                return true;
            }
        }
        return false;
    }
}
