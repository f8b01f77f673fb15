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
 * @param topkIds [N, k] int64: the teacher's top-k ids there
 * @param topkLogprobs [N, k] float32: their log-probabilities
 * @param weights [N] float32 ones (every gathered position is real)
 * @param targetLogprobs [N] float32: the teacher's log-probability of each target token ({@code completion_logprobs})
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
        NDArray targetLogprobs) {}
