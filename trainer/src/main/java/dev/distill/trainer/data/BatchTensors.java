package dev.distill.trainer.data;

import ai.djl.ndarray.NDArray;

/**
 * A micro-batch on the device.
 *
 * @param inputIds [B, L] int64, right-padded with 0
 * @param positionIds [B, L] int64, 0..L-1 on every row
 * @param attentionMask [B, L] int64, 1 for real tokens, 0 for padding
 * @param gatherIndex [N] int64: flat index {@code row * L + position} of each trained position in [B * L]
 * @param targets [N] int64: the teacher's sampled token at each trained position
 * @param topkIds [N, W] int64: the teacher's stored ids there (W the most entries of a position in the batch;
 *     a position with fewer repeats its first id in the padding slots)
 * @param topkLogprobs [N, W] float32: their log-probabilities (-inf in padding slots)
 * @param weights [N] float32 ones (every gathered position is real)
 * @param targetLogprobs [N] float32: the teacher's log-probability of each target token ({@code completion_logprobs})
 * @param labelPadding [N, W] float32, 1 in padding slots and 0 elsewhere; null when no position has fewer than W
 * @param labelWeights [N, W] float32 for sampled labels: the target weights of the entries (count-based, summing to 1
 *     per position, 0 in padding); null for the top kinds
 * @param teacherTop1 [N] int64: the stored id with the highest teacher log-probability
 */
public record BatchTensors(
        NDArray inputIds,
        NDArray positionIds,
        NDArray attentionMask,
        NDArray gatherIndex,
        NDArray targets,
        NDArray topkIds,
        NDArray topkLogprobs,
        NDArray weights,
        NDArray targetLogprobs,
        NDArray labelPadding,
        NDArray labelWeights,
        NDArray teacherTop1) {}
