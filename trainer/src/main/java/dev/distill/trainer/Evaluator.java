package dev.distill.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.distill.model.CausalLM;
import dev.distill.model.Ops;
import dev.distill.trainer.data.BatchTensors;
import dev.distill.trainer.data.MicroBatch;
import dev.distill.trainer.data.RowLimits;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.data.TokenBudgetBatcher;
import dev.distill.trainer.loss.CrossEntropy;
import dev.distill.trainer.loss.DistillLoss;
import dev.distill.trainer.loss.SampledKl;
import dev.distill.trainer.loss.SampledReverseKl;

/**
 * Computes {@link EvalMetrics} of a model on soft-label data, in data order, batch by batch (no
 * gradients; one batch's tensors alive at a time).
 */
public final class Evaluator {
    /** The eval KL: forward KL with the tail bucket at T = 1, the exact KL between the two (k+1)-outcome distributions. */
    private static final DistillLoss KL = DistillLoss.of("forward-kl", "bucket", 1.0, 0.5);
    /** Reverse KL(model || teacher) over the same k + 1 outcomes. */
    private static final DistillLoss REVERSE_KL = DistillLoss.of("reverse-kl", "bucket", 1.0, 0.5);

    private static final SampledReverseKl SAMPLED = new SampledReverseKl();

    private Evaluator() {}

    /**
     * @param role "model" or "student", for messages about ids outside the model's vocabulary
     * @param maxRows evaluate at most this many rows (Long.MAX_VALUE: all)
     */
    public static EvalMetrics evaluate(CausalLM model, SoftLabelData data, int batchTokens, long maxRows, String role) {
        double[] sums = new double[4]; // kl, ce, teacher nll, agreeing positions
        long[] counts = forEachBatch(model, data, batchTokens, maxRows, role, (mb, t, logits) -> {
            NDArray perPosition = t.labelWeights() != null
                    ? SampledKl.perPosition(logits, t.topkIds(), t.topkLogprobs(), t.labelWeights(), t.weights())
                    : KL.perPosition(logits, t.topkIds(), t.topkLogprobs(), t.labelPadding(), t.weights());
            sums[0] += perPosition.sum().getFloat();
            sums[1] += CrossEntropy.perPosition(logits, t.targets(), t.weights())
                    .sum()
                    .getFloat();
            sums[2] += mb.teacherNll();
            sums[3] += agreeing(logits, t);
        });
        long tokens = counts[1];
        return new EvalMetrics(
                counts[0], tokens, sums[0] / tokens, sums[3] / tokens, sums[1] / tokens, sums[2] / tokens);
    }

    /**
     * The on-policy metrics of a model on a run that scored samples of the model itself (or of an earlier version of
     * it): reverse KL over the teacher's top-k plus the tail bucket, the sampled estimate of the reverse KL and top-1
     * agreement.
     */
    public static OwnSampleMetrics ownSamples(CausalLM model, SoftLabelData data, int batchTokens) {
        double[] sums = new double[3]; // reverse kl, sampled estimate, agreeing positions
        long[] counts = forEachBatch(model, data, batchTokens, Long.MAX_VALUE, "model", (mb, t, logits) -> {
            sums[0] += REVERSE_KL
                    .perPosition(logits, t.topkIds(), t.topkLogprobs(), t.labelPadding(), t.weights())
                    .sum()
                    .getFloat();
            sums[1] += SAMPLED.perPosition(logits, t.targets(), t.targetLogprobs(), t.weights())
                    .sum()
                    .getFloat();
            sums[2] += agreeing(logits, t);
        });
        long tokens = counts[1];
        return new OwnSampleMetrics(counts[0], tokens, sums[0] / tokens, sums[1] / tokens, sums[2] / tokens);
    }

    /** What one batch adds to a metric's sums: the model's logits at its trained positions. */
    private interface BatchVisitor {
        void visit(MicroBatch batch, BatchTensors tensors, NDArray logits);
    }

    /**
     * Runs the model over the data in order, batch by batch, without recording gradients (whichever thread calls;
     * a model packed for inference refuses to record them); returns {rows, tokens}.
     */
    private static long[] forEachBatch(
            CausalLM model, SoftLabelData data, int batchTokens, long maxRows, String role, BatchVisitor visitor) {
        return Ops.withoutGradients(() -> visitBatches(model, data, batchTokens, maxRows, role, visitor));
    }

    private static long[] visitBatches(
            CausalLM model, SoftLabelData data, int batchTokens, long maxRows, String role, BatchVisitor visitor) {
        RowLimits limits =
                new RowLimits(model.config().vocabSize(), model.config().maxPositionEmbeddings(), data.topK(), role);
        long tokens = 0;
        long rows = 0;
        try (RowStream stream = RowStream.inOrder(data, maxRows)) {
            TokenBudgetBatcher batcher = new TokenBudgetBatcher(stream, limits, batchTokens, data.rows());
            for (MicroBatch mb = batcher.next(); mb != null; mb = batcher.next()) {
                try (NDManager m = model.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning(); // closes the batch's arrays on the parameters' manager too
                    BatchTensors t = mb.tensors(m, data.logits());
                    visitor.visit(mb, t, CompletionLogits.of(model, t, false)); // logits [N, V] float32
                }
                tokens += mb.trainTokens();
                rows += mb.rows().size();
            }
        }
        if (tokens == 0) {
            throw new IllegalArgumentException(
                    "evaluation data " + String.join(",", data.locations()) + " has no completion token to evaluate");
        }
        return new long[] {rows, tokens};
    }

    /** Positions where the model's argmax is the teacher's most likely token. */
    private static long agreeing(NDArray logits, BatchTensors t) {
        return logits.argMax(1).eq(t.teacherTop1()).sum().getLong();
    }
}
