package dev.distill.model;

import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * libtorch's own profiler (the legacy CPU profiler DJL's JNI exposes): records every op this process
 * runs between {@link #start} and {@link #stop}, writes a Chrome trace, and reads back the top-level
 * ops (those not called by another op), i.e. the calls made through DJL, with their durations.
 */
public final class OpProfiler {
    /** One top-level op: its libtorch name, start and duration in microseconds. */
    public record Op(String name, double startUs, double durationUs) {}

    private OpProfiler() {}

    /** Starts recording (CPU ops, no shapes, no memory). */
    public static void start() {
        Engines.pytorch(); // loads libtorch: a run that has not touched the engine yet has no native profiler
        JniUtils.startProfile(false, false, false);
    }

    /** Stops recording and writes the Chrome trace to {@code trace}. */
    public static void stop(Path trace) {
        JniUtils.stopProfile(trace.toString());
    }

    /** The top-level ops of a trace written by {@link #stop}, in the order they ran. */
    public static List<Op> topLevel(Path trace) {
        List<JsonNode> events = new ArrayList<>();
        try {
            for (JsonNode e : new ObjectMapper().readTree(trace.toFile())) {
                if ("X".equals(e.path("ph").asText())) {
                    events.add(e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(trace + ": cannot read the profiler trace: " + e.getMessage(), e);
        }
        events.sort(Comparator.comparingDouble((JsonNode e) -> e.get("ts").asDouble())
                .thenComparingDouble(e -> -e.get("dur").asDouble()));
        List<Op> ops = new ArrayList<>();
        double end = Double.NEGATIVE_INFINITY;
        for (JsonNode e : events) {
            double ts = e.get("ts").asDouble();
            if (ts < end) {
                continue; // called by the enclosing op
            }
            end = ts + e.get("dur").asDouble();
            ops.add(new Op(e.get("name").asText(), ts, e.get("dur").asDouble()));
        }
        return ops;
    }

    /**
     * The {@code rows} ops that took the most time, by name: calls, milliseconds, share of the ops'
     * total, as Markdown table rows; then the wall time the trace spans and the share outside any op
     * (Java, JNI, host copies, waiting).
     */
    public static String table(List<Op> ops, int rows) {
        Map<String, double[]> byName = new LinkedHashMap<>();
        double total = 0;
        for (Op op : ops) {
            double[] a = byName.computeIfAbsent(op.name(), n -> new double[2]);
            a[0]++;
            a[1] += op.durationUs();
            total += op.durationUs();
        }
        List<Map.Entry<String, double[]>> sorted = new ArrayList<>(byName.entrySet());
        sorted.sort((x, y) -> Double.compare(y.getValue()[1], x.getValue()[1]));
        StringBuilder sb = new StringBuilder("| op | calls | ms | share |\n| --- | --- | --- | --- |\n");
        for (Map.Entry<String, double[]> e : sorted.subList(0, Math.min(rows, sorted.size()))) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.1f | %.1f%% |%n",
                    e.getKey(),
                    (long) e.getValue()[0],
                    e.getValue()[1] / 1e3,
                    100 * e.getValue()[1] / total));
        }
        if (!ops.isEmpty()) {
            Op last = ops.get(ops.size() - 1);
            double wall = last.startUs() + last.durationUs() - ops.get(0).startUs();
            sb.append(String.format(
                    Locale.ROOT,
                    "%d calls, %.1f ms in ops, %.1f ms wall (%.1f%% outside ops)%n",
                    ops.size(),
                    total / 1e3,
                    wall / 1e3,
                    100 * (wall - total) / wall));
        }
        return sb.toString();
    }
}
