package dev.distill.trainer.crosstok;

import dev.distill.trainer.data.PositionedRow;
import java.util.List;

/**
 * A teacher row re-tokenized for the student, with its alignment groups. The student reads
 * {@code promptIds ++ completionIds[:end-1]}; its completion token j is predicted at input position
 * {@code promptIds.length - 1 + j}.
 *
 * @param completionIds the student's tokens of the teacher's completion text (plus its end-of-sequence token when the
 *     teacher stopped), possibly longer than {@code end}
 * @param end completion tokens kept (the rest falls outside the student's context)
 * @param groups alignment groups within {@code [0, end)}
 * @param completionBytes bytes of the completion text the student's {@code end} tokens cover
 * @param teacherBytes bytes of the teacher's completion text
 */
public record AlignedRow(
        PositionedRow source,
        int[] promptIds,
        int[] completionIds,
        int end,
        List<ByteAlignment.Group> groups,
        long completionBytes,
        long teacherBytes) {

    /** Student completion positions trained on (the CE term's share of the loss normaliser). */
    public int trainTokens() {
        return end;
    }

    /** Prompt + kept completion tokens (what the token budget counts). */
    public int budgetTokens() {
        return promptIds.length + end;
    }

    /** Length of the student's input. */
    public int inputLength() {
        return promptIds.length + end - 1;
    }

    /** The teacher's own negative log-likelihood of its whole completion. */
    public double teacherNll() {
        double sum = 0;
        for (float lp : source.row().completionLogprobs()) {
            sum -= lp;
        }
        return sum;
    }
}
