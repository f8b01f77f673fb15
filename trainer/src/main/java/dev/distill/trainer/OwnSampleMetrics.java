package dev.distill.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How close a model is to the teacher on its own samples (a run the teacher scored with
 * {@code generate --mode score --responses-from}), averaged over completion tokens.
 *
 * @param reverseKl KL(model || teacher) over the teacher's top-k plus one tail bucket, at temperature 1 (nats/token)
 * @param sampledReverseKl the mean of log q(x) - log p_teacher(x) over the sampled tokens x: an unbiased estimate of
 *     the reverse KL per token when the model itself drew the samples at temperature 1
 * @param top1 fraction of positions where the model's argmax is the teacher's most likely token
 */
public record OwnSampleMetrics(long rows, long tokens, double reverseKl, double sampledReverseKl, double top1) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The metrics as JSON, keys prefixed with {@code prefix}. */
    public ObjectNode toJson(String prefix) {
        ObjectNode o = JSON.createObjectNode();
        o.put(prefix + "reverse_kl", reverseKl);
        o.put(prefix + "sampled_reverse_kl", sampledReverseKl);
        o.put(prefix + "top1", top1);
        o.put(prefix + "tokens", tokens);
        return o;
    }
}
