package dev.distill.pipeline.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The model thread under faults: it survives any Throwable, splits out-of-memory batches, and stops in order. */
class BatchWorkerTest {
    static final BatchWorker.Key KEY = new BatchWorker.Key(false, 1, true, 1f, 1f, List.of(2));

    static WorkItem row(int i) {
        return new WorkItem(i, 0, new int[] {1, 2, 3}, null, 4, i);
    }

    static Throwable failure(CompletableFuture<TeacherOutput> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("completed normally");
    }

    @Test
    void anErrorFailsOnlyItsBatchAndTheModelThreadGoesOn() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        teacher.before = b -> {
            if (b.get(0).promptIndex() == 0) {
                throw new StackOverflowError("injected");
            }
        };
        BatchWorker worker = new BatchWorker(teacher, 4096);
        worker.start();
        try {
            assertInstanceOf(StackOverflowError.class, failure(worker.submit(KEY, row(0))));
            TeacherOutput next = worker.submit(KEY, row(1)).get(10, TimeUnit.SECONDS); // the thread is still there
            assertEquals(1, next.item().promptIndex());
        } finally {
            assertTrue(worker.shutdown(Duration.ofSeconds(5)));
        }
    }

    @Test
    void aBatchOutOfMemoryIsSplitAndRetriedNotFailed() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        teacher.before = b -> {
            if (b.size() > 2) {
                throw new IllegalStateException("CUDA out of memory. Tried to allocate 2.00 GiB");
            }
        };
        BatchWorker worker = new BatchWorker(teacher, 4096);
        List<CompletableFuture<TeacherOutput>> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rows.add(worker.submit(KEY, row(i))); // queued before the thread starts: one round of 4
        }
        worker.start();
        try {
            for (int i = 0; i < 4; i++) {
                assertEquals(i, rows.get(i).get(10, TimeUnit.SECONDS).item().promptIndex());
            }
            assertEquals(List.of(4, 2, 2), teacher.batchSizes);
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void heapOutOfMemoryIsSplitToo() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        teacher.before = b -> {
            if (b.size() > 1) {
                throw new OutOfMemoryError("Java heap space");
            }
        };
        BatchWorker worker = new BatchWorker(teacher, 4096);
        CompletableFuture<TeacherOutput> a = worker.submit(KEY, row(0));
        CompletableFuture<TeacherOutput> b = worker.submit(KEY, row(1));
        worker.start();
        try {
            assertEquals(0, a.get(10, TimeUnit.SECONDS).item().promptIndex());
            assertEquals(1, b.get(10, TimeUnit.SECONDS).item().promptIndex());
            assertEquals(List.of(2, 1, 1), teacher.batchSizes);
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
        }
    }

    @Test
    void shutdownDuringALongBatchAnswersEveryRowAndLeavesTheModelAlone() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        teacher.before = b -> {
            started.countDown();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (release.getCount() > 0 && System.nanoTime() < end) { // outlives the drain time, deaf to interrupts
                Thread.onSpinWait();
            }
        };
        BatchWorker worker = new BatchWorker(teacher, 4096);
        worker.start();
        CompletableFuture<TeacherOutput> runningRow = worker.submit(KEY, row(0));
        assertTrue(started.await(10, TimeUnit.SECONDS));
        CompletableFuture<TeacherOutput> queuedRow =
                worker.submit(new BatchWorker.Key(true, 1, true, 1f, 1f, List.of()), row(1));
        long t0 = System.nanoTime();
        assertFalse(worker.shutdown(Duration.ofMillis(500)), "the batch still runs: the model must stay open");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        for (CompletableFuture<TeacherOutput> f : List.of(runningRow, queuedRow)) {
            BadRequestException e = assertInstanceOf(BadRequestException.class, failure(f));
            assertEquals(503, e.status);
        }
        BadRequestException late = assertInstanceOf(BadRequestException.class, failure(worker.submit(KEY, row(2))));
        assertEquals(503, late.status);
        release.countDown();
    }

    @Test
    void rowsGivenUpOnBeforeTheyStartAreSkipped() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        BatchWorker worker = new BatchWorker(teacher, 4096);
        CompletableFuture<TeacherOutput> dropped = worker.submit(KEY, row(0));
        dropped.completeExceptionally(new java.util.concurrent.TimeoutException("deadline"));
        CompletableFuture<TeacherOutput> kept = worker.submit(KEY, row(1));
        worker.start();
        try {
            assertEquals(1, kept.get(10, TimeUnit.SECONDS).item().promptIndex());
            assertEquals(List.of(1), teacher.batchSizes);
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
        }
    }
}
