package dev.distill.trainer.crosstok;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * How close a student with another tokenizer is to the teacher, on the teacher's completions.
 *
 * @param rows rows evaluated
 * @param tokens the student's completion tokens
 * @param bytes completion bytes those tokens cover
 * @param groups alignment groups (student positions with an aligned teacher target)
 * @param cePerByte the student's cross-entropy of the teacher's completion text, nats per byte
 * @param teacherCePerByte the teacher's own cross-entropy of it, nats per byte (from the stored log-probabilities)
 * @param alignedKl KL(teacher || student) at the aligned positions, over the ids spelled the same in both vocabularies
 *     plus one bucket for everything else (nats per aligned position)
 * @param uld the ULD distance at the aligned positions (top k plus a bucket)
 */
public record CrossTokMetrics(
        long rows,
        long tokens,
        long bytes,
        long groups,
        double cePerByte,
        double teacherCePerByte,
        double alignedKl,
        double uld) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Share of the student's completion positions that have an aligned teacher target. */
    public double coverage() {
        return tokens == 0 ? 0 : (double) groups / tokens;
    }

    /** The metrics as JSON (the keys of an eval line in metrics.jsonl). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("ce_per_byte", cePerByte);
        o.put("teacher_ce_per_byte", teacherCePerByte);
        o.put("aligned_kl", alignedKl);
        o.put("uld", uld);
        o.put("coverage", coverage());
        o.put("rows", rows);
        o.put("tokens", tokens);
        o.put("bytes", bytes);
        o.put("aligned", groups);
        return o;
    }

    /** A short table for people. */
    public String table() {
        return String.format(
                Locale.ROOT,
                """
                rows                 %d
                tokens               %d   student tokens of the teacher's completions (%d bytes)
                ce_per_byte          %.6f   student's cross-entropy of the teacher's text (nats/byte)
                teacher_ce_per_byte  %.6f   teacher's own (nats/byte)
                aligned_kl           %.6f   KL(teacher || student) at aligned positions: twin ids + one bucket (nats)
                uld                  %.6f   sorted-probability L1 distance at aligned positions (top-k + bucket)
                coverage             %.4f   share of student positions with an aligned teacher target
                """,
                rows,
                tokens,
                bytes,
                cePerByte,
                teacherCePerByte,
                alignedKl,
                uld,
                coverage());
    }
}
