package dev.distill.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * AdamW's checkpointable state: the number of steps taken and the fp32 first/second moments by
 * parameter name (torch's {@code exp_avg}/{@code exp_avg_sq}).
 */
public record AdamWState(long step, Map<String, NDArray> expAvg, Map<String, NDArray> expAvgSq) {}
