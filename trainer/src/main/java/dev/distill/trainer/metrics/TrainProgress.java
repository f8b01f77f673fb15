package dev.distill.trainer.metrics;

import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Training progress: a live bar with the loss and tokens/s on a terminal, and otherwise (logs, CI,
 * nohup) a plain line on stderr at the first step, every {@code logEvery} and at the last step.
 */
public final class TrainProgress implements AutoCloseable {
    private final long total;
    private final ProgressBar bar;
    private final long logEveryNanos;
    private long lastLog;

    public TrainProgress(long startStep, long total, Duration logEvery) {
        this.total = total;
        this.logEveryNanos = logEvery.toNanos();
        this.bar = System.console() == null
                ? null
                : new ProgressBarBuilder()
                        .setTaskName("train")
                        .setInitialMax(total)
                        .setUnit(" steps", 1)
                        .setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(500)
                        .startsFrom(startStep, Duration.ZERO)
                        .build();
    }

    /** Records a finished step. */
    public void step(long step, double loss, double tokensPerSecond) {
        String stats = String.format(Locale.ROOT, "loss %.4f, %.0f tok/s", loss, tokensPerSecond);
        if (bar != null) {
            bar.stepTo(step);
            bar.setExtraMessage(" " + stats);
            return;
        }
        long now = System.nanoTime();
        if (lastLog == 0 || now - lastLog >= logEveryNanos || step == total) {
            lastLog = now;
            System.err.println(String.format(Locale.ROOT, "train: step %d/%d, %s", step, total, stats));
        }
    }

    /** A message that must not be lost in the bar (evaluations, checkpoints). */
    public void note(String message) {
        if (bar != null) {
            bar.pause();
            System.err.println(message);
            bar.resume();
        } else {
            System.err.println(message);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
