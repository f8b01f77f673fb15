package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The out-of-memory retry, with failures injected by a fake teacher step. */
class OutOfMemoryTest {
    static List<WorkItem> items(int n) {
        List<WorkItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            items.add(new WorkItem(i, 0, new int[] {1, 2}, null, 4, i));
        }
        return items;
    }

    static List<TeacherOutput> outputs(List<WorkItem> batch) {
        return batch.stream()
                .map(w -> new TeacherOutput(
                        w, new int[] {7}, new float[] {-1f}, new int[] {7}, new float[] {-1f}, "length"))
                .toList();
    }

    @Test
    void aBatchThatRunsOutOfMemoryIsSplitUntilItFits() {
        List<Integer> attempts = new ArrayList<>();
        List<TeacherOutput> out = OutOfMemory.retrySplitting(items(8), batch -> {
            attempts.add(batch.size());
            if (batch.size() > 2) {
                throw new EngineException("CUDA out of memory. Tried to allocate 2.00 GiB");
            }
            return outputs(batch);
        });
        assertEquals(List.of(8, 4, 2, 2, 4, 2, 2), attempts);
        assertEquals(
                List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L),
                out.stream().map(o -> o.item().promptIndex()).toList());
    }

    @Test
    void otherFailuresAndASingleItemOutOfMemoryAreRethrown() {
        IllegalStateException other = new IllegalStateException("bad shape");
        assertSame(
                other,
                assertThrows(
                        IllegalStateException.class,
                        () -> OutOfMemory.retrySplitting(items(4), b -> {
                            throw other;
                        })));
        assertThrows(
                EngineException.class,
                () -> OutOfMemory.retrySplitting(items(2), b -> {
                    throw new EngineException(
                            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes");
                }));
    }
}
