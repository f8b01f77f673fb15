package dev.distill.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.distill.model.CausalLM;
import dev.distill.model.Ops;
import dev.distill.trainer.crosstok.AlignedBatch;
import dev.distill.trainer.crosstok.AlignedBatcher;
import dev.distill.trainer.crosstok.AlignedRow;
import dev.distill.trainer.crosstok.CrossTokMetrics;
import dev.distill.trainer.crosstok.CrossTokenizer;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.loss.CrossEntropy;
import dev.distill.trainer.loss.CrossTokenizerLoss;

/** Computes {@link CrossTokMetrics} of a student with another tokenizer, in data order, batch by batch, without gradients. */
public final class CrossTokEvaluator {
    private CrossTokEvaluator() {}

    /**
     * Without recording gradients, whichever thread calls (a model packed for inference refuses to record them).
     *
     * @param maxRows evaluate at most this many rows (Long.MAX_VALUE: all)
     */
    public static CrossTokMetrics evaluate(
            CausalLM model, CrossTokenizer cross, SoftLabelData data, int batchTokens, long maxRows) {
        return Ops.withoutGradients(() -> evaluateBatches(model, cross, data, batchTokens, maxRows));
    }

    private static CrossTokMetrics evaluateBatches(
            CausalLM model, CrossTokenizer cross, SoftLabelData data, int batchTokens, long maxRows) {
        double nll = 0;
        double teacherNll = 0;
        double kl = 0;
        double uld = 0;
        long tokens = 0;
        long bytes = 0;
        long teacherBytes = 0;
        long groups = 0;
        long rows = 0;
        try (RowStream stream = RowStream.inOrder(data, CrossTokenizer.COLUMNS, maxRows)) {
            AlignedBatcher batcher = cross.batcher(stream, batchTokens, data.topK(), data.rows());
            for (AlignedBatch b = batcher.next(); b != null; b = batcher.next()) {
                try (NDManager m = model.manager().newSubManager();
                        NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning(); // closes the batch's arrays on the parameters' manager too
                    AlignedBatch.Tensors t = b.tensors(m, cross.twins(), cross.twinPenalty());
                    NDArray logits = CompletionLogits.of(model, t.student(), false); // [Ns, V]
                    nll += CrossEntropy.perPosition(
                                    logits, t.student().targets(), t.student().weights())
                            .sum()
                            .getFloat();
                    if (t.groups().count() > 0) {
                        NDArray merged = CrossTokenizerLoss.mergedStudent(logits, t.groups()); // [G, V]
                        kl += CrossTokenizerLoss.matchedKl(merged, t.groups())
                                .sum()
                                .getFloat();
                        uld += CrossTokenizerLoss.uld(merged, t.groups().teacherLogprobs())
                                .sum()
                                .getFloat();
                    }
                }
                for (AlignedRow r : b.rows()) {
                    teacherNll += r.teacherNll();
                    teacherBytes += r.teacherBytes();
                    bytes += r.completionBytes();
                }
                tokens += b.trainTokens();
                groups += b.groups();
                rows += b.rows().size();
            }
        }
        if (tokens == 0 || bytes == 0) {
            throw new IllegalArgumentException(
                    "evaluation data " + String.join(",", data.locations()) + " has no completion text to evaluate");
        }
        return new CrossTokMetrics(
                rows,
                tokens,
                bytes,
                groups,
                nll / bytes,
                teacherNll / Math.max(1, teacherBytes),
                groups == 0 ? Double.NaN : kl / groups,
                groups == 0 ? Double.NaN : uld / groups);
    }
}
