package dev.distill.trainer;

import dev.distill.data.ShardSchema;
import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.RowLimits;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.data.TokenBudgetBatcher;
import java.util.List;

/**
 * The number of optimizer steps {@code --epochs E} takes: the batches of E epochs are counted by
 * replaying the exact training stream (same seed, shuffle and token budget) over the length columns
 * only, then divided by {@code --grad-accum}, rounding up (the last step may have fewer micro-batches).
 */
final class StepPlan {
    private StepPlan() {}

    static long count(SoftLabelData data, TrainOptions o, RowLimits lengthsOnly) {
        long microBatches = 0;
        List<String> lengths = List.of(ShardSchema.PROMPT_IDS, ShardSchema.COMPLETION_IDS);
        try (RowStream stream =
                RowStream.shuffled(data, lengths, o.seed(), o.shuffleBuffer(), o.epochs(), DataPosition.START)) {
            TokenBudgetBatcher batcher = new TokenBudgetBatcher(stream, lengthsOnly, o.batchTokens(), data.rows());
            while (batcher.next() != null) {
                microBatches++;
            }
        }
        return steps(microBatches, o);
    }

    /** Optimizer steps for {@code microBatches} micro-batches at {@code --grad-accum}, rounding up. */
    static long steps(long microBatches, TrainOptions o) {
        if (microBatches == 0) {
            throw new IllegalArgumentException("--data: no batch to train on");
        }
        return (microBatches + o.gradAccum() - 1) / o.gradAccum();
    }
}
