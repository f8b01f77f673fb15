package dev.distill.pipeline.serve;

import dev.distill.model.Ops;
import dev.distill.pipeline.BatchPlanner;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.OutOfMemory;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.TokenSampler;
import dev.distill.pipeline.WorkItem;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one model thread: requests from every connection wait in a queue, and each round takes
 * the oldest together with every waiting request that can share its batch (same kind, top-k and
 * sampling), splits them under the token budget and runs them through the teacher. Gradients are off on
 * this thread. A batch that runs out of memory is split and retried as in {@code distill generate}; any
 * other failure, {@link Error}s included, fails that batch's rows only, and the thread goes on. Rows
 * whose request has already given up (deadline passed, client gone) are skipped. Every future completes.
 */
final class BatchWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchWorker.class);
    /** Most rows taken in one round. */
    static final int MAX_ROWS = 256;
    /** How long {@link #close()} lets a running batch finish. */
    static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);

    /** What rows must share to run in one batch. */
    record Key(boolean score, int k, boolean greedy, float temperature, float topP, List<Integer> stopIds) {}

    private record Job(Key key, WorkItem item, CompletableFuture<TeacherOutput> result) {}

    /** The server stops: queued rows are refused with 503 and the running batch gets the drain time. */
    static BadRequestException shuttingDown() {
        return new BadRequestException(
                503, null, "the server is shutting down; retry against another server or after" + " it restarts");
    }

    private final Teacher teacher;
    private final BatchPlanner planner;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final AtomicLong batches = new AtomicLong();
    private volatile boolean accepting = true;
    private volatile List<Job> running = List.of();

    BatchWorker(Teacher teacher, int maxBatchTokens) {
        this.teacher = teacher;
        this.planner = new BatchPlanner(maxBatchTokens, MAX_ROWS);
        this.thread = new Thread(this::loop, "serve-model");
        thread.setDaemon(true);
    }

    /** Starts the model thread (requests submitted before wait in the queue). */
    void start() {
        thread.start();
    }

    /**
     * Queues one row; the future completes with its output, or exceptionally with the teacher's error
     * (503 once the server stops). Completing it from outside (a deadline) drops the row
     * if it has not started.
     */
    CompletableFuture<TeacherOutput> submit(Key key, WorkItem item) {
        CompletableFuture<TeacherOutput> f = new CompletableFuture<>();
        if (!accepting) {
            f.completeExceptionally(shuttingDown());
            return f;
        }
        queue.add(new Job(key, item, f));
        if (!accepting) { // raced with close(): make sure nothing is left behind
            failQueued();
        }
        return f;
    }

    /** Teacher calls made so far (one per planned batch). */
    long batchesRun() {
        return batches.get();
    }

    /** Rows waiting for the model thread. */
    int queued() {
        return queue.size();
    }

    private void loop() {
        try {
            Ops.setGradMode(false);
        } catch (Throwable t) { // no PyTorch engine in this process: a teacher without a local model
            LOG.debug("grad mode not set: {}", t.toString());
        }
        while (accepting) {
            try {
                Job first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null || first.result().isDone()) {
                    continue;
                }
                List<Job> round = new ArrayList<>();
                round.add(first);
                for (Iterator<Job> it = queue.iterator(); it.hasNext() && round.size() < MAX_ROWS; ) {
                    Job j = it.next();
                    if (j.key().equals(first.key())) {
                        it.remove();
                        if (!j.result().isDone()) {
                            round.add(j);
                        }
                    }
                }
                running = round;
                run(first.key(), round);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) { // never let the model thread die: every later request would hang
                LOG.error("the model thread caught {}; its rows fail, the server goes on", t.toString());
                fail(running, t);
            } finally {
                running = List.of();
            }
        }
    }

    private void run(Key key, List<Job> round) {
        Map<WorkItem, Job> byItem = new IdentityHashMap<>();
        List<WorkItem> items = new ArrayList<>(round.size());
        for (Job j : round) {
            byItem.put(j.item(), j);
            items.add(j.item());
        }
        for (List<WorkItem> planned : planner.plan(items)) {
            List<WorkItem> batch = planned.stream()
                    .filter(w -> !byItem.get(w).result().isDone())
                    .toList();
            if (batch.isEmpty() || !accepting) {
                continue; // every row given up on, or the server stops: close() fails what is left
            }
            try {
                List<TeacherOutput> out = OutOfMemory.retrySplitting(batch, b -> call(key, b));
                batches.incrementAndGet();
                for (TeacherOutput o : out) {
                    byItem.get(o.item()).result().complete(o);
                }
            } catch (Throwable e) {
                LOG.error("a batch of {} rows failed: {}", batch.size(), e.toString());
                for (WorkItem w : batch) {
                    byItem.get(w).result().completeExceptionally(e);
                }
            }
        }
    }

    private List<TeacherOutput> call(Key key, List<WorkItem> batch) {
        return key.score()
                ? teacher.score(batch, key.k())
                : teacher.generate(
                        batch,
                        new GenerationParams(
                                key.k(),
                                new TokenSampler(key.greedy(), key.temperature(), key.topP()),
                                key.stopIds().stream()
                                        .mapToInt(Integer::intValue)
                                        .toArray()));
    }

    private static void fail(List<Job> jobs, Throwable t) {
        for (Job j : jobs) {
            j.result().completeExceptionally(t);
        }
    }

    private void failQueued() {
        for (Job j; (j = queue.poll()) != null; ) {
            j.result().completeExceptionally(shuttingDown());
        }
    }

    /**
     * Stops in order: no new rows, queued rows refused (503), the batch in progress given
     * up to {@code drain} to finish (no further batch starts); if it is still running then, its rows are
     * failed too.
     *
     * @return true when the model thread has stopped, so the teacher may be closed; false when a batch
     *     still runs on it (closing the model under it would pull its memory away)
     */
    boolean shutdown(Duration drain) {
        accepting = false; // the loop sees it within its 100 ms poll; model code is never interrupted
        failQueued();
        try {
            thread.join(Math.max(1, drain.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failQueued();
        if (thread.isAlive()) {
            LOG.warn(
                    "a batch is still running after {} s; its requests are failed and the model is left open",
                    drain.toSeconds());
            for (Job j : running) {
                j.result().completeExceptionally(shuttingDown());
            }
            return false;
        }
        return true;
    }

    @Override
    public void close() {
        shutdown(DEFAULT_DRAIN);
    }
}
