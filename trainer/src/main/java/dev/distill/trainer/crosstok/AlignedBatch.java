package dev.distill.trainer.crosstok;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.SoftLabelRow;
import dev.distill.trainer.data.BatchTensors;
import dev.distill.trainer.loss.AlignedGroups;
import dev.distill.trainer.loss.DistillLoss;
import java.util.List;

/** Re-tokenized rows that go through the student together: the host-side cross-tokenizer micro-batch. */
public record AlignedBatch(List<AlignedRow> rows, int topK) {
    public AlignedBatch {
        rows = List.copyOf(rows);
    }

    /** The batch on the device: the student's inputs and completion positions, and the alignment groups. */
    public record Tensors(BatchTensors student, AlignedGroups groups) {}

    /** Student completion positions (the CE normaliser's share). */
    public long trainTokens() {
        return rows.stream().mapToLong(AlignedRow::trainTokens).sum();
    }

    /** Alignment groups (the KD normaliser's share). */
    public long groups() {
        return rows.stream().mapToLong(r -> r.groups().size()).sum();
    }

    /** Prompt + completion tokens the student reads. */
    public long budgetTokens() {
        return rows.stream().mapToLong(AlignedRow::budgetTokens).sum();
    }

    /**
     * The tensors, in {@code manager}: right-padded student inputs, every student completion position flattened in
     * row-major order, and each group's rows among them with the teacher's merged top-k and the ids' student twins.
     */
    public Tensors tensors(NDManager manager, VocabTwins twins, float[] twinPenalty) {
        int b = rows.size();
        int len = rows.stream().mapToInt(AlignedRow::inputLength).max().orElseThrow();
        int n = Math.toIntExact(trainTokens());
        int g = Math.toIntExact(groups());
        int d = 0;
        for (AlignedRow r : rows) {
            for (ByteAlignment.Group group : r.groups()) {
                d = Math.max(d, group.studentEnd() - group.studentFirst() - 1);
            }
        }
        long[] ids = new long[b * len];
        long[] positions = new long[b * len];
        long[] mask = new long[b * len];
        long[] gather = new long[n];
        long[] targets = new long[n];
        long[] first = new long[g];
        long[] rest = new long[g * d];
        float[] restMask = new float[g * d];
        float[] teacher = new float[g * topK];
        long[] mapped = new long[g * topK];
        float[] matched = new float[g * topK];
        int out = 0;
        int gi = 0;
        for (int i = 0; i < b; i++) {
            AlignedRow r = rows.get(i);
            int p = r.promptIds().length;
            for (int j = 0; j < len; j++) {
                int at = i * len + j;
                positions[at] = j;
                if (j < r.inputLength()) {
                    ids[at] = j < p ? r.promptIds()[j] : r.completionIds()[j - p];
                    mask[at] = 1;
                }
            }
            int rowStart = out;
            for (int t = 0; t < r.end(); t++, out++) {
                gather[out] = (long) i * len + p - 1 + t;
                targets[out] = r.completionIds()[t];
            }
            SoftLabelRow row = r.source().row();
            for (ByteAlignment.Group group : r.groups()) {
                first[gi] = rowStart + group.studentFirst();
                for (int x = 0; x < group.studentEnd() - group.studentFirst() - 1; x++) {
                    rest[gi * d + x] = rowStart + group.studentFirst() + 1 + x;
                    restMask[gi * d + x] = 1;
                }
                double suffix = 0;
                for (int t = group.teacherFirst() + 1; t < group.teacherEnd(); t++) {
                    suffix += Math.max(row.completionLogprobs()[t], DistillLoss.LOGPROB_FLOOR);
                }
                int base = group.teacherFirst() * topK;
                for (int c = 0; c < topK; c++) {
                    float lp = Math.max(row.topkLogprobs()[base + c], DistillLoss.LOGPROB_FLOOR);
                    teacher[gi * topK + c] = (float) (Math.min(lp, 0f) + suffix);
                    int twin = twins.studentOf(row.topkIds()[base + c]);
                    mapped[gi * topK + c] = Math.max(twin, 0);
                    matched[gi * topK + c] = twin >= 0 ? 1f : 0f;
                }
                gi++;
            }
        }
        BatchTensors student = new BatchTensors(
                manager.create(ids, new Shape(b, len)), // [B, L]
                manager.create(positions, new Shape(b, len)), // [B, L]
                manager.create(mask, new Shape(b, len)), // [B, L]
                manager.create(gather, new Shape(n)), // [Ns]
                manager.create(targets, new Shape(n)), // [Ns]
                null,
                null,
                manager.ones(new Shape(n)), // [Ns]
                null,
                null,
                null,
                null);
        AlignedGroups groups = new AlignedGroups(
                manager.create(first, new Shape(g)), // [G]
                manager.create(rest, new Shape(g, d)), // [G, D]
                manager.create(restMask, new Shape(g, d)), // [G, D]
                student.targets(), // [Ns]
                manager.create(teacher, new Shape(g, topK)), // [G, k]
                manager.create(mapped, new Shape(g, topK)), // [G, k]
                manager.create(matched, new Shape(g, topK)), // [G, k]
                manager.create(twinPenalty)); // [V]
        return new Tensors(student, groups);
    }
}
