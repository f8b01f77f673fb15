package dev.distill.trainer.crosstok;

import dev.distill.data.TeacherVocab;
import dev.distill.tokenizer.TokenBytes;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Teacher ids and student ids that stand for the same bytes ("twins"): GOLD's exact matches. Two ordinary tokens are
 * twins when their bytes are equal; the teacher's stop tokens are twins of the student's end-of-sequence token, so
 * that ending a completion is compared directly. Special tokens are otherwise never twins.
 */
public final class VocabTwins {
    private final int[] studentOf;
    private final boolean[] studentHasTwin;
    private final int teacherTwins;
    private final int teacherVocab;

    private VocabTwins(int[] studentOf, boolean[] studentHasTwin, int teacherTwins, int teacherVocab) {
        this.studentOf = studentOf;
        this.studentHasTwin = studentHasTwin;
        this.teacherTwins = teacherTwins;
        this.teacherVocab = teacherVocab;
    }

    /**
     * @param studentVocab the student model's embedding rows (ids at or above it are never twins)
     * @param studentEos the student's end-of-sequence id
     */
    public static VocabTwins of(TeacherVocab teacher, TokenBytes student, int studentVocab, int studentEos) {
        Map<ByteBuffer, Integer> byBytes = new HashMap<>();
        for (int id = 0; id < Math.min(student.size(), studentVocab); id++) {
            byte[] b = student.bytes(id);
            if (b.length > 0 && !student.isSpecial(id)) {
                byBytes.putIfAbsent(ByteBuffer.wrap(b), id);
            }
        }
        int n = teacher.tokenBytes().length;
        int[] studentOf = new int[n];
        Arrays.fill(studentOf, -1);
        boolean[] hasTwin = new boolean[studentVocab];
        int twins = 0;
        for (int id = 0; id < n; id++) {
            byte[] b = teacher.bytes(id);
            if (b.length == 0 || teacher.isSpecial(id)) {
                continue;
            }
            Integer s = byBytes.get(ByteBuffer.wrap(b));
            if (s != null) {
                studentOf[id] = s;
                hasTwin[s] = true;
                twins++;
            }
        }
        for (int stop : teacher.stopIds()) {
            if (stop >= 0 && stop < n && studentOf[stop] < 0 && studentEos < studentVocab) {
                studentOf[stop] = studentEos;
                hasTwin[studentEos] = true;
                twins++;
            }
        }
        return new VocabTwins(studentOf, hasTwin, twins, n);
    }

    /** The student twin of a teacher id, or -1. */
    public int studentOf(int teacherId) {
        return teacherId >= 0 && teacherId < studentOf.length ? studentOf[teacherId] : -1;
    }

    /** Whether a student id has a teacher twin. */
    public boolean studentHasTwin(int studentId) {
        return studentHasTwin[studentId];
    }

    /** Student vocabulary size these twins cover. */
    public int studentVocab() {
        return studentHasTwin.length;
    }

    /** The share of the teacher's vocabulary with a student twin: GOLD's default weight of the matched KL. */
    public double teacherShare() {
        return teacherVocab == 0 ? 0 : (double) teacherTwins / teacherVocab;
    }

    /** Teacher ids with a twin. */
    public int twins() {
        return teacherTwins;
    }
}
