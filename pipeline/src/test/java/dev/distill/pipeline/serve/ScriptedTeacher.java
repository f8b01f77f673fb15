package dev.distill.pipeline.serve;

import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A teacher without a model for the server's fault tests: every row "generates" token 5 with log-prob -1, and
 * {@link #before} runs first on each batch (block, throw an Error, fail out of memory...). Records batch sizes.
 */
final class ScriptedTeacher implements Teacher {
    final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    volatile Consumer<List<WorkItem>> before = b -> {};
    volatile boolean closed;

    @Override
    public int vocabSize() {
        return 512;
    }

    @Override
    public int[] eosIds() {
        return new int[] {2};
    }

    @Override
    public int contextLength() {
        return 256;
    }

    @Override
    public List<TeacherOutput> generate(List<WorkItem> batch, GenerationParams params) {
        return outputs(batch);
    }

    @Override
    public List<TeacherOutput> score(List<WorkItem> batch, dev.distill.data.LogitsSpec logits) {
        return outputs(batch);
    }

    private List<TeacherOutput> outputs(List<WorkItem> batch) {
        batchSizes.add(batch.size());
        before.accept(batch);
        return batch.stream()
                .map(w -> new TeacherOutput(
                        w, new int[] {5}, new float[] {-1f}, new int[] {5}, new float[] {-1f}, "length"))
                .toList();
    }

    @Override
    public void close() {
        closed = true;
    }
}
