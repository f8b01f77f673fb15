package dev.distill.pipeline;

import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A long job's progress: a live bar on a terminal (done/total, rate, ETA, tokens/s), and a plain log
 * line every {@code logEvery} otherwise (CI logs, nohup, Kubernetes).
 */
public final class Progress implements AutoCloseable {
    private final String task;
    private final long total;
    private final ProgressBar bar;
    private final long startNanos = System.nanoTime();
    private final long logEveryNanos;
    private long lastLog = startNanos;
    private long done;
    private long tokens;

    public Progress(String task, long total, String unit, Duration logEvery) {
        this.task = task;
        this.total = total;
        this.logEveryNanos = logEvery.toNanos();
        this.bar = System.console() == null
                ? null
                : new ProgressBarBuilder()
                        .setTaskName(task)
                        .setInitialMax(total)
                        .setUnit(" " + unit, 1)
                        .setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(500)
                        .build();
    }

    /** Records {@code units} more units done, which produced {@code newTokens} tokens. */
    public synchronized void advance(long units, long newTokens) {
        done += units;
        tokens += newTokens;
        if (bar != null) {
            bar.stepBy(units);
            bar.setExtraMessage(String.format(Locale.ROOT, " %.0f tok/s", tokensPerSecond()));
        } else if (System.nanoTime() - lastLog >= logEveryNanos) {
            lastLog = System.nanoTime();
            System.err.println(line());
        }
    }

    public synchronized double tokensPerSecond() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        return s > 0 ? tokens / s : 0;
    }

    /** A log line: done/total, tokens/s, ETA. */
    synchronized String line() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        String eta = done == 0 ? "?" : formatDuration((long) (s / done * (total - done)));
        return String.format(
                Locale.ROOT,
                "%s: %d/%d (%.1f%%), %.1f tok/s, elapsed %s, ETA %s",
                task,
                done,
                total,
                total == 0 ? 100.0 : 100.0 * done / total,
                tokensPerSecond(),
                formatDuration((long) s),
                eta);
    }

    static String formatDuration(long seconds) {
        return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
