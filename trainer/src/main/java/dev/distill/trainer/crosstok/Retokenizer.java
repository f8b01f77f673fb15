package dev.distill.trainer.crosstok;

import dev.distill.data.SoftLabelRow;
import dev.distill.data.TextSpans;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TokenBytes;
import dev.distill.trainer.data.PositionedRow;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a teacher row (with its text columns) into the student's tokens and the byte alignment between the two:
 * the prompt is the teacher's rendered prompt text, encoded by the student's tokenizer (with its post-processor, e.g.
 * a bos); the completion is the teacher's completion text encoded by the student's tokenizer, plus the student's
 * end-of-sequence token when the teacher stopped. Where the student's tokenizer changes the text (a normaliser such as
 * NFC, or a completion cut inside a UTF-8 character), alignment stops at the first byte that differs.
 */
public final class Retokenizer {
    private final HfTokenizer student;
    private final TokenBytes studentBytes;
    private final int studentEos;
    private final int maxPositions;

    /**
     * @param studentEos appended when the teacher's completion ended with a stop token
     * @param maxPositions the student's context; completion tokens past it are cut
     */
    public Retokenizer(HfTokenizer student, int studentEos, int maxPositions) {
        this.student = student;
        this.studentBytes = student.tokenBytes();
        this.studentEos = studentEos;
        this.maxPositions = maxPositions;
    }

    /**
     * The row for the student, or null when nothing of it can be trained on (an empty completion, or a prompt that
     * fills the student's context).
     *
     * @throws IllegalArgumentException naming the shard and sample when the row has no text columns
     */
    public AlignedRow align(PositionedRow p) {
        SoftLabelRow r = p.row();
        TextSpans text = r.text();
        if (text == null) {
            throw new IllegalArgumentException(p.shard().label() + ": sample " + r.sampleId() + " has no text spans;"
                    + " cross-tokenizer training needs data made with 'distill generate --store-spans'");
        }
        byte[] teacherText = text.completionText();
        int valid = validUtf8Prefix(teacherText);
        int[] prompt = student.encode(text.promptText(), true);
        int[] completion = student.encode(new String(teacherText, 0, valid, StandardCharsets.UTF_8), false);
        int n = r.completionIds().length;
        if (SoftLabelRow.STOP.equals(r.finishReason()) && n > 0 && text.start(n - 1) == text.byteEnds()[n - 1]) {
            completion = Arrays.copyOf(completion, completion.length + 1);
            completion[completion.length - 1] = studentEos;
        }
        if (prompt.length == 0 || completion.length == 0) {
            return null;
        }
        int end = Math.min(completion.length, maxPositions - prompt.length + 1);
        if (end < 1) {
            return null;
        }
        int[] ends = new int[completion.length];
        byte[] studentText = studentBytes.concat(completion, false, ends);
        int limit = Arrays.mismatch(teacherText, studentText);
        limit = limit < 0 ? teacherText.length : limit;
        List<ByteAlignment.Group> groups = new ArrayList<>();
        for (ByteAlignment.Group g : ByteAlignment.align(text.byteEnds(), ends, limit)) {
            if (g.studentEnd() <= end) {
                groups.add(g);
            }
        }
        return new AlignedRow(p, prompt, completion, end, groups, ends[end - 1], teacherText.length);
    }

    /** Length of the longest prefix of {@code b} that is whole UTF-8 characters (a cut completion may end inside one). */
    static int validUtf8Prefix(byte[] b) {
        int i = b.length;
        int back = 0;
        while (i > 0 && back < 4 && (b[i - 1] & 0xC0) == 0x80) {
            i--;
            back++;
        }
        if (i == 0) {
            return b.length;
        }
        int lead = b[i - 1] & 0xFF;
        int need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return back + 1 >= need ? b.length : i - 1;
    }
}
