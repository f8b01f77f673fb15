package dev.distill.pipeline.serve;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** A `distill serve` process whose every batch runs for a minute, for the SIGTERM test: prints its port, then serves. */
public final class SlowServeMain {
    private SlowServeMain() {}

    public static void main(String[] args) throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        teacher.before = b -> {
            System.out.println("batch started");
            System.out.flush();
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < end) { // busy like a model: ignores interrupts
                Thread.onSpinWait();
            }
        };
        CompletionServer.Limits d = CompletionServer.Limits.DEFAULT;
        CompletionServer server = CompletionServer.start(
                teacher,
                null,
                new CompletionServer.Settings(
                        "slow",
                        "127.0.0.1",
                        0,
                        4096,
                        null,
                        new CompletionServer.Limits(
                                d.maxLogprobs(),
                                d.maxPrompts(),
                                d.maxBodyBytes(),
                                d.requestTimeout(),
                                d.idleTimeout(),
                                d.maxConnections(),
                                Duration.ofSeconds(1))));
        System.out.println("port " + server.port());
        System.out.flush();
        CountDownLatch done = new CountDownLatch(1);
        boolean free = ServeCommand.awaitShutdown(server, done);
        System.out.println("stopped; model free: " + free);
        System.out.flush();
        done.countDown();
    }
}
