package dev.distill.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Device or host out-of-memory failures reported through DJL's engine, and the retry that halves a batch. */
public final class OutOfMemory {
    private static final Logger LOG = LoggerFactory.getLogger(OutOfMemory.class);

    private OutOfMemory() {}

    /** True when {@code e} or a cause is an out-of-memory failure (Java heap, CUDA or the CPU allocator). */
    public static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return true;
            }
            String m = t.getMessage();
            if (m != null
                    && (m.contains("CUDA out of memory")
                            || m.contains("out of memory")
                            || m.contains("DefaultCPUAllocator: can't allocate memory"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs {@code work} on the batch; when it runs out of memory, splits the batch in halves and
     * retries each (recursively, down to single items, whose failure is rethrown). Outputs keep the
     * batch's order.
     */
    public static List<TeacherOutput> retrySplitting(
            List<WorkItem> batch, Function<List<WorkItem>, List<TeacherOutput>> work) {
        try {
            return work.apply(batch);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (batch.size() == 1 || !is(e)) {
                throw e;
            }
            int half = batch.size() / 2;
            LOG.warn(
                    "out of memory on a batch of {} sequences; retrying as two batches of {} and {}",
                    batch.size(),
                    half,
                    batch.size() - half);
            List<TeacherOutput> out = new ArrayList<>(retrySplitting(batch.subList(0, half), work));
            out.addAll(retrySplitting(batch.subList(half, batch.size()), work));
            return out;
        }
    }
}
