package dev.distill.trainer.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --data A,B} (the runs concatenated) or {@code --data A:0.7,B:0.3} (a weighted mix: each row is drawn from
 * run i with probability w_i / sum w). A weight is a number after the last colon; a URI authority such as
 * {@code hdfs://host:8020} is not read as one.
 *
 * @param weights the normalised weights, one per location, or null when the runs are concatenated
 */
public record DataMix(List<String> locations, double[] weights) {
    private static final Pattern WEIGHTED = Pattern.compile("(.+):([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)");
    private static final Pattern AUTHORITY_ONLY = Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*");

    /**
     * Parses the entries of {@code --data}.
     *
     * @throws IllegalArgumentException naming {@code --data} when only some entries have a weight, or a weight is not
     *     positive
     */
    public static DataMix parse(List<String> entries) {
        List<String> locations = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        for (String e : entries) {
            Matcher m = WEIGHTED.matcher(e);
            if (m.matches() && !AUTHORITY_ONLY.matcher(m.group(1)).matches()) {
                double w = Double.parseDouble(m.group(2));
                if (!(w > 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException("--data " + e + ": a mixing weight must be a positive number");
                }
                locations.add(m.group(1));
                weights.add(w);
            } else {
                locations.add(e);
            }
        }
        if (weights.isEmpty()) {
            return new DataMix(List.copyOf(locations), null);
        }
        if (weights.size() != locations.size()) {
            throw new IllegalArgumentException("--data " + String.join(",", entries) + ": give every run a weight"
                    + " (A:0.7,B:0.3) or none (A,B: the runs one after the other)");
        }
        double sum = weights.stream().mapToDouble(Double::doubleValue).sum();
        return new DataMix(
                List.copyOf(locations),
                weights.stream().mapToDouble(w -> w / sum).toArray());
    }

    /** Whether rows are drawn from the runs by weight. */
    public boolean weighted() {
        return weights != null;
    }
}
