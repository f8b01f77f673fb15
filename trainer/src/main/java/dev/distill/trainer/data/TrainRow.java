package dev.distill.trainer.data;

import dev.distill.data.SoftLabelRow;

/**
 * A row ready for the student: the completion positions {@code [first, end)} it trains on (all of
 * them, unless the prompt is empty or the sequence is cut to the student's context).
 *
 * <p>The student reads {@code prompt ++ completion[:end-1]}; completion token t is predicted at input
 * position {@code prompt.length - 1 + t}.
 */
public record TrainRow(PositionedRow source, int first, int end) {
    public SoftLabelRow row() {
        return source.row();
    }

    /** Completion positions trained on. */
    public int trainTokens() {
        return end - first;
    }

    /** Length of the student's input: prompt plus the kept completion minus its last token. */
    public int inputLength() {
        return row().promptIds().length + end - 1;
    }

    /** What the token budget counts: prompt plus kept completion tokens. */
    public int budgetTokens() {
        return row().promptIds().length + end;
    }
}
