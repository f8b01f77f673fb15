package dev.distill.trainer.online;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which student layer is matched with which teacher layer ({@code --layer-map}, {@code --attention-layers}).
 * Layers are 0-based decoder layers; a layer's hidden state is the residual stream after it.
 *
 * <p>{@code auto} maps every student layer s (of Ls) to teacher layer round((s + 1) * Lt / Ls) - 1: the
 * student's layers spread uniformly over the teacher's and the last maps to the last (TinyBERT's uniform
 * strategy). {@code last} maps the last student layer to the last teacher layer (MiniLM's choice for
 * attention). An explicit list is {@code "s:t,s:t,..."}.
 */
public record LayerMap(List<Pair> pairs) {
    /** Student layer {@code student} is matched with teacher layer {@code teacher}. */
    public record Pair(int student, int teacher) {}

    public LayerMap {
        pairs = List.copyOf(pairs);
    }

    /**
     * Parses a map against the two models' layer counts.
     *
     * @param option the option it came from, for messages
     * @throws IllegalArgumentException naming the option and the bad entry
     */
    public static LayerMap parse(String spec, int studentLayers, int teacherLayers, String option) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        List<Pair> pairs = new ArrayList<>();
        if (s.equals("auto")) {
            for (int i = 0; i < studentLayers; i++) {
                pairs.add(new Pair(i, (int) Math.round((i + 1) * (double) teacherLayers / studentLayers) - 1));
            }
            return new LayerMap(pairs);
        }
        if (s.equals("last")) {
            return new LayerMap(List.of(new Pair(studentLayers - 1, teacherLayers - 1)));
        }
        for (String entry : s.split(",")) {
            String[] st = entry.trim().split(":");
            if (st.length != 2) {
                throw new IllegalArgumentException(option + ": expected auto, last or \"s:t,s:t,...\" (student:teacher"
                        + " layer pairs), got '" + spec + "'");
            }
            int a = layer(st[0], studentLayers, "student", option, entry);
            int b = layer(st[1], teacherLayers, "teacher", option, entry);
            if (pairs.stream().anyMatch(p -> p.student() == a)) {
                throw new IllegalArgumentException(option + ": student layer " + a + " is mapped twice");
            }
            pairs.add(new Pair(a, b));
        }
        return new LayerMap(pairs);
    }

    /** Checks the syntax only (layer counts unknown yet), for option validation. */
    public static void checkSyntax(String spec, String option) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto") || s.equals("last")) {
            return;
        }
        parse(spec, Integer.MAX_VALUE / 2, Integer.MAX_VALUE / 2, option);
    }

    private static int layer(String s, int layers, String role, String option, String entry) {
        int v;
        try {
            v = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    option + ": '" + entry.trim() + "' is not a student:teacher pair of layer" + " numbers");
        }
        if (v < 0 || v >= layers) {
            throw new IllegalArgumentException(option + ": " + role + " layer " + v + " in '" + entry.trim()
                    + "' does not" + " exist (the " + role + " has layers 0.." + (layers - 1) + ")");
        }
        return v;
    }

    /** The student layers, in map order. */
    public int[] studentLayers() {
        return pairs.stream().mapToInt(Pair::student).toArray();
    }

    /** The teacher layers, in map order (may repeat). */
    public int[] teacherLayers() {
        return pairs.stream().mapToInt(Pair::teacher).distinct().toArray();
    }

    /** As written back on the command line: {@code "s:t,s:t"}. */
    @Override
    public String toString() {
        return String.join(
                ",", pairs.stream().map(p -> p.student() + ":" + p.teacher()).toList());
    }
}
