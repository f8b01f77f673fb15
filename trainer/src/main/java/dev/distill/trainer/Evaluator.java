package dev.distill.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.distill.model.CausalLM;
import dev.distill.trainer.data.BatchTensors;
import dev.distill.trainer.data.MicroBatch;
import dev.distill.trainer.data.RowLimits;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.data.TokenBudgetBatcher;
import dev.distill.trainer.loss.CrossEntropy;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.SampledKl;

/**
 * Computes {@link EvalMetrics} of a model on soft-label data, in data order, batch by batch (no
 * gradients; one batch's tensors alive at a time).
 */
public final class Evaluator {
    /**
     * The eval KL: forward KL with the tail bucket at T = 1, the exact KL between the two (k+1)-outcome distributions;
     * for sampled labels the unbiased estimate of the full KL ({@link SampledKl}).
     */
    private static final DistillLoss KL = DistillLoss.of("forward-kl", "bucket", 1.0, 0.5);

    private Evaluator() {}

    /**
     * @param role "model" or "student", for messages about ids outside the model's vocabulary
     * @param maxRows evaluate at most this many rows (Long.MAX_VALUE: all)
     */
    public static EvalMetrics evaluate(CausalLM model, SoftLabelData data, int batchTokens, long maxRows, String role) {
        RowLimits limits = new RowLimits(model.config().vocabSize(), model.config().maxPositionEmbeddings(), data.topK(), role);
        double kl = 0;
        double ce = 0;
        double teacherNll = 0;
        long agree = 0;
        long tokens = 0;
        long rows = 0;
        try (RowStream stream = RowStream.inOrder(data, maxRows)) {
            TokenBudgetBatcher batcher = new TokenBudgetBatcher(stream, limits, batchTokens, data.rows());
            for (MicroBatch mb = batcher.next(); mb != null; mb = batcher.next()) {
                try (NDManager m = model.manager().newSubManager(); NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning(); // closes the batch's arrays on the parameters' manager too
                    BatchTensors t = mb.tensors(m, data.logits());
                    NDArray logits = CompletionLogits.of(model, t, false); // [N, V] float32
                    NDArray perPosition = t.labelWeights() != null
                            ? SampledKl.perPosition(logits, t.topkIds(), t.topkLogprobs(), t.labelWeights(), t.weights())
                            : KL.perPosition(logits, t.topkIds(), t.topkLogprobs(), t.labelPadding(), t.weights());
                    kl += perPosition.sum().getFloat();
                    ce += CrossEntropy.perPosition(logits, t.targets(), t.weights()).sum().getFloat();
                    agree += logits.argMax(1).eq(t.teacherTop1()).sum().getLong();
                }
                teacherNll += mb.teacherNll();
                tokens += mb.trainTokens();
                rows += mb.rows().size();
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException("evaluation data " + String.join(",", data.locations())
                    + " has no completion token to evaluate");
        }
        return new EvalMetrics(rows, tokens, kl / tokens, (double) agree / tokens, ce / tokens, teacherNll / tokens);
    }
}
