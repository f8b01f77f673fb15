package dev.distill.pipeline.serve;

import dev.distill.model.Ops;
import dev.distill.pipeline.BatchPlanner;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.TokenSampler;
import dev.distill.pipeline.WorkItem;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one model thread: requests from every connection wait in a queue, and each round takes
 * the oldest together with every waiting request that can share its batch (same kind, top-k and
 * sampling), splits them under the token budget and runs them through the teacher. Gradients are off on
 * this thread.
 */
final class BatchWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchWorker.class);
    /** Most rows taken in one round. */
    static final int MAX_ROWS = 256;

    /** What rows must share to run in one batch. */
    record Key(boolean score, int k, boolean greedy, float temperature, float topP, List<Integer> stopIds) {}

    private record Job(Key key, WorkItem item, CompletableFuture<TeacherOutput> result) {}

    private final Teacher teacher;
    private final BatchPlanner planner;
    private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final AtomicLong batches = new AtomicLong();
    private volatile boolean running = true;

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

    /** Queues one row; the future completes with its output, or exceptionally with the teacher's error. */
    CompletableFuture<TeacherOutput> submit(Key key, WorkItem item) {
        CompletableFuture<TeacherOutput> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("the server is shutting down"));
            return f;
        }
        queue.add(new Job(key, item, f));
        return f;
    }

    /** Teacher calls made so far (one per planned batch). */
    long batchesRun() {
        return batches.get();
    }

    private void loop() {
        Ops.setGradMode(false);
        while (running) {
            Job first;
            try {
                first = queue.take();
            } catch (InterruptedException e) {
                break;
            }
            List<Job> round = new ArrayList<>();
            round.add(first);
            for (Iterator<Job> it = queue.iterator(); it.hasNext() && round.size() < MAX_ROWS; ) {
                Job j = it.next();
                if (j.key().equals(first.key())) {
                    it.remove();
                    round.add(j);
                }
            }
            run(first.key(), round);
        }
    }

    private void run(Key key, List<Job> round) {
        Map<WorkItem, Job> byItem = new IdentityHashMap<>();
        List<WorkItem> items = new ArrayList<>(round.size());
        for (Job j : round) {
            byItem.put(j.item(), j);
            items.add(j.item());
        }
        for (List<WorkItem> batch : planner.plan(items)) {
            try {
                List<TeacherOutput> out = key.score() ? teacher.score(batch, key.k())
                        : teacher.generate(batch, new GenerationParams(key.k(),
                                new TokenSampler(key.greedy(), key.temperature(), key.topP()),
                                key.stopIds().stream().mapToInt(Integer::intValue).toArray()));
                batches.incrementAndGet();
                for (TeacherOutput o : out) {
                    byItem.get(o.item()).result().complete(o);
                }
            } catch (RuntimeException e) {
                LOG.error("a batch of {} rows failed: {}", batch.size(), e.toString());
                for (WorkItem w : batch) {
                    byItem.get(w).result().completeExceptionally(e);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Job j; (j = queue.poll()) != null; ) {
            j.result().completeExceptionally(new IllegalStateException("the server is shutting down"));
        }
    }
}
