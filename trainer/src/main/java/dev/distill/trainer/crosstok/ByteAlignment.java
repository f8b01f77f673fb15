package dev.distill.trainer.crosstok;

import java.util.ArrayList;
import java.util.List;

/**
 * Aligns two tokenizations of the same bytes by where their tokens end. Walking both token sequences, the side whose
 * current token ends earlier advances; when both current tokens end at the same byte, the tokens walked since the last
 * such point form a group (as TRL GOLD's byte-offset alignment). Zero-length tokens (special tokens, such as the stop
 * token at the end of a completion) join the group that closes at their offset, or pair with each other.
 */
public final class ByteAlignment {
    /**
     * One group: student tokens {@code [studentFirst, studentEnd)} and teacher tokens {@code [teacherFirst, teacherEnd)}
     * covering the same bytes. The student token {@code studentEnd - 1} ends where the teacher token {@code teacherEnd - 1}
     * ends.
     */
    public record Group(int studentFirst, int studentEnd, int teacherFirst, int teacherEnd) {}

    private ByteAlignment() {}

    /**
     * @param teacherEnds each teacher token's end offset (non-decreasing)
     * @param studentEnds each student token's end offset (non-decreasing), in the same bytes
     * @param limit bytes {@code [0, limit)} are the same on both sides; groups past it are not formed
     */
    public static List<Group> align(int[] teacherEnds, int[] studentEnds, int limit) {
        List<Group> groups = new ArrayList<>();
        int s = 0;
        int t = 0;
        int sFirst = 0;
        int tFirst = 0;
        while (s < studentEnds.length && t < teacherEnds.length) {
            int se = studentEnds[s];
            int te = teacherEnds[t];
            if (se > limit || te > limit) {
                break;
            }
            if (se < te) {
                s++;
            } else if (se > te) {
                t++;
            } else {
                s++;
                t++;
                groups.add(new Group(sFirst, s, tFirst, t));
                sFirst = s;
                tFirst = t;
            }
        }
        return groups;
    }
}
