package dev.distill.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/**
 * How far a shard's stored labels are from the teacher's full distributions, measured at capture time over every
 * completion position (see docs/shard-format.md): the teacher mass the stored ids cover, the teacher's entropy, and
 * KL(teacher || reconstruction) in nats. Written as one JSON footer value ({@link #KEY}) and into the manifest.
 */
public record Fidelity(long positions, Summary coveredMass, Summary entropy, Summary kl) {
    /** The footer key (format version 2). */
    public static final String KEY = "distill.fidelity";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * Mean, median, 95th percentile (nearest rank) and maximum of one measure over the positions. A measure that was
     * not taken (entropy and KL of a remote teacher, which sends no full distribution) is null.
     */
    public record Summary(double mean, double p50, double p95, double max) {
        static Summary of(double[] values, int count) {
            double[] sorted = Arrays.stream(values, 0, count)
                    .filter(v -> !Double.isNaN(v))
                    .toArray();
            int n = sorted.length;
            if (n == 0) {
                return count == 0 ? new Summary(0, 0, 0, 0) : null;
            }
            Arrays.sort(sorted);
            double sum = 0;
            for (double v : sorted) {
                sum += v;
            }
            return new Summary(sum / n, rank(sorted, 0.5), rank(sorted, 0.95), sorted[n - 1]);
        }

        private static double rank(double[] sorted, double q) {
            return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
        }

        ObjectNode toJson() {
            ObjectNode o = MAPPER.createObjectNode();
            o.put("mean", (float) mean); // float precision: enough, and short
            o.put("p50", (float) p50);
            o.put("p95", (float) p95);
            o.put("max", (float) max);
            return o;
        }

        static Summary fromJson(JsonNode o) {
            if (o == null || o.isNull()) {
                return null;
            }
            return new Summary(
                    o.path("mean").asDouble(),
                    o.path("p50").asDouble(),
                    o.path("p95").asDouble(),
                    o.path("max").asDouble());
        }
    }

    /** Collects the three measures position by position. */
    public static final class Accumulator {
        private double[] covered = new double[1024];
        private double[] entropy = new double[1024];
        private double[] kl = new double[1024];
        private int n;

        /** Adds one position. */
        public void add(double coveredMass, double entropyNats, double klNats) {
            if (n == covered.length) {
                covered = Arrays.copyOf(covered, n * 2);
                entropy = Arrays.copyOf(entropy, n * 2);
                kl = Arrays.copyOf(kl, n * 2);
            }
            covered[n] = coveredMass;
            entropy[n] = entropyNats;
            kl[n] = klNats;
            n++;
        }

        /** The summary of every position added. */
        public Fidelity summary() {
            return new Fidelity(n, Summary.of(covered, n), Summary.of(entropy, n), Summary.of(kl, n));
        }
    }

    /**
     * Several shards' summaries as one: means weighted by positions, maxima of maxima, and (not mergeable exactly)
     * the largest shard's p50 and p95; null when {@code shards} is empty.
     */
    public static Fidelity merge(java.util.List<Fidelity> shards) {
        if (shards.isEmpty()) {
            return null;
        }
        long n = shards.stream().mapToLong(Fidelity::positions).sum();
        return new Fidelity(
                n,
                merge(shards, n, Fidelity::coveredMass),
                merge(shards, n, Fidelity::entropy),
                merge(shards, n, Fidelity::kl));
    }

    private static Summary merge(
            java.util.List<Fidelity> shards, long n, java.util.function.Function<Fidelity, Summary> part) {
        double mean = 0, p50 = 0, p95 = 0, max = 0;
        for (Fidelity f : shards) {
            Summary s = part.apply(f);
            if (s == null) {
                return null;
            }
            mean += n == 0 ? 0 : s.mean() * f.positions() / n;
            p50 = Math.max(p50, s.p50());
            p95 = Math.max(p95, s.p95());
            max = Math.max(max, s.max());
        }
        return new Summary(mean, p50, p95, max);
    }

    /** One line for people: {@code covered mass mean 0.9712 (p50 .., p95 .., max ..); entropy ...; KL ...}. */
    public String describe() {
        if (entropy == null || kl == null) {
            return String.format(
                    java.util.Locale.ROOT,
                    "covered mass mean %.4f (p50 %.4f, p95 %.4f, max %.4f) over %,d"
                            + " positions; entropy and KL not measured (remote teacher)",
                    coveredMass.mean(),
                    coveredMass.p50(),
                    coveredMass.p95(),
                    coveredMass.max(),
                    positions);
        }
        return String.format(
                java.util.Locale.ROOT,
                "covered mass mean %.4f (p50 %.4f, p95 %.4f, max %.4f); entropy mean %.3f nats (p95 %.3f);"
                        + " KL(full || stored) mean %.5f nats (p50 %.5f, p95 %.5f, max %.5f) over %,d positions",
                coveredMass.mean(),
                coveredMass.p50(),
                coveredMass.p95(),
                coveredMass.max(),
                entropy.mean(),
                entropy.p95(),
                kl.mean(),
                kl.p50(),
                kl.p95(),
                kl.max(),
                positions);
    }

    /** The JSON object written to the footer and the manifest. */
    public ObjectNode toJson() {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("positions", positions);
        o.set("covered_mass", coveredMass.toJson());
        o.set("entropy", entropy == null ? o.nullNode() : entropy.toJson());
        o.set("kl", kl == null ? o.nullNode() : kl.toJson());
        return o;
    }

    /** The footer value. */
    public String toFooterValue() {
        return toJson().toString();
    }

    /**
     * Parses a footer value or manifest object.
     *
     * @throws IllegalArgumentException naming {@code source} when malformed
     */
    public static Fidelity fromJson(JsonNode o, String source) {
        if (o == null
                || !o.isObject()
                || !o.path("positions").canConvertToLong()
                || !o.path("covered_mass").isObject()
                || !objectOrNull(o.get("entropy"))
                || !objectOrNull(o.get("kl"))) {
            throw new IllegalArgumentException(
                    source + ": " + KEY + " is not a fidelity object" + " {positions, covered_mass, entropy, kl}");
        }
        return new Fidelity(
                o.path("positions").asLong(),
                Summary.fromJson(o.path("covered_mass")),
                Summary.fromJson(o.get("entropy")),
                Summary.fromJson(o.get("kl")));
    }

    private static boolean objectOrNull(JsonNode n) {
        return n != null && (n.isObject() || n.isNull());
    }

    /** Parses the footer value. */
    public static Fidelity fromFooterValue(String value, String source) {
        try {
            return fromJson(MAPPER.readTree(value), source);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(source + ": " + KEY + " is not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
