package dev.distill.pipeline;

import java.nio.file.Path;

/** Everything `distill generate` was asked to do, validated. */
public record GenerateSpec(
        Path teacher,
        Path tokenizer,
        Path prompts,
        String out,
        Mode mode,
        int topK,
        int maxNewTokens,
        float temperature,
        float topP,
        int samplesPerPrompt,
        long seed,
        int shardSize,
        Integer maxBatchTokens,
        String dtype,
        String device,
        boolean chatTemplate,
        String promptField,
        String responseField,
        int numWorkers,
        int workerIndex,
        boolean skipInvalid) {

    public GenerateSpec {
        require(topK >= 1, "--top-k must be >= 1, got " + topK);
        require(maxNewTokens >= 1, "--max-new-tokens must be >= 1, got " + maxNewTokens);
        require(samplesPerPrompt >= 1, "--samples-per-prompt must be >= 1, got " + samplesPerPrompt);
        require(shardSize >= 1, "--shard-size must be >= 1, got " + shardSize);
        require(maxBatchTokens == null || maxBatchTokens >= 1, "--max-batch-tokens must be >= 1, got " + maxBatchTokens);
        require(numWorkers >= 1, "--num-workers must be >= 1, got " + numWorkers);
        require(workerIndex >= 0 && workerIndex < numWorkers,
                "--worker-index must be in [0, " + numWorkers + "), got " + workerIndex);
        require(mode != Mode.SAMPLE || temperature > 0, "--temperature must be > 0 in sample mode, got " + temperature);
        require(topP > 0 && topP <= 1, "--top-p must be in (0, 1], got " + topP);
        require(mode != Mode.SCORE || samplesPerPrompt == 1, "--samples-per-prompt must be 1 in score mode");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
