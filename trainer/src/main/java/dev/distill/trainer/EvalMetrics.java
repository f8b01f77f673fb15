package dev.distill.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * How close a model is to the teacher on a set of soft labels, averaged over completion tokens.
 *
 * @param rows rows evaluated
 * @param tokens completion positions evaluated
 * @param kl forward KL(teacher || model) over the teacher's top-k plus one bucket holding the rest
 *     of the mass, at temperature 1 (nats per token)
 * @param top1 fraction of positions where the model's argmax is the teacher's most likely token
 * @param ce the model's cross-entropy on the teacher's sampled tokens (nats per token)
 * @param teacherCe the teacher's own cross-entropy on them, from the data (nats per token)
 */
public record EvalMetrics(long rows, long tokens, double kl, double top1, double ce, double teacherCe) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The metrics as a JSON object (the keys of an eval line in metrics.jsonl). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("kl", kl);
        o.put("top1", top1);
        o.put("ce", ce);
        o.put("teacher_ce", teacherCe);
        o.put("rows", rows);
        o.put("tokens", tokens);
        return o;
    }

    /** A short table for people. */
    public String table() {
        return String.format(
                Locale.ROOT,
                """
                rows        %d
                tokens      %d
                kl          %.6f   KL(teacher || model) per token: top-k + tail bucket, T=1 (nats)
                top1        %.4f   fraction of positions where the model's argmax is the teacher's top-1
                ce          %.6f   model's cross-entropy on the teacher's tokens (nats/token)
                teacher_ce  %.6f   teacher's own cross-entropy on its tokens (nats/token)
                """,
                rows,
                tokens,
                kl,
                top1,
                ce,
                teacherCe);
    }
}
