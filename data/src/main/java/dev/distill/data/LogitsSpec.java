package dev.distill.data;

import dev.distill.cli.UsageException;
import java.math.BigDecimal;

/**
 * What a run stores of the teacher's next-token distribution at each position ({@code --logits}): the top k, the
 * smallest top set reaching mass P (at most KMAX entries), or N draws with replacement at proposal temperature T,
 * stored as distinct ids with counts. {@link #toString()} is the canonical spelling written into shard metadata.
 *
 * @param kind which representation
 * @param size k for top-k, KMAX for top-p, N for sample: the most entries a position can hold
 * @param mass P for top-p (0 &lt; P &lt;= 1), otherwise 0
 * @param temperature T for sample (&gt; 0), otherwise 0
 */
public record LogitsSpec(Kind kind, int size, double mass, double temperature) {

    /** The representations. */
    public enum Kind {
        TOP_K("top-k"),
        TOP_P("top-p"),
        SAMPLE("sample");

        private final String spelling;

        Kind(String spelling) {
            this.spelling = spelling;
        }

        /** The spelling in {@code --logits} and in metadata. */
        public String spelling() {
            return spelling;
        }
    }

    /** KMAX of {@code top-p:P} when not given. */
    public static final int DEFAULT_TOP_P_MAX = 64;

    /** The accepted forms, for usage messages. */
    public static final String FORMS = "top-k:K (K >= 1), top-p:P[:KMAX] (0 < P <= 1, KMAX >= 1, default "
            + DEFAULT_TOP_P_MAX + ") or sample:N[:T] (N >= 1, T > 0, default 1)";

    public LogitsSpec {
        if (kind == null || size < 1) {
            throw new IllegalArgumentException("logits spec: kind and a size >= 1 are required");
        }
        if (kind == Kind.TOP_P && !(mass > 0 && mass <= 1)) {
            throw new IllegalArgumentException("top-p mass must be in (0, 1], got " + mass);
        }
        if (kind == Kind.SAMPLE && !(temperature > 0 && Double.isFinite(temperature))) {
            throw new IllegalArgumentException("sample temperature must be > 0, got " + temperature);
        }
    }

    /**
     * The spec of a command's {@code --logits} and {@code --top-k} options (the alias of {@code top-k:K}): the one
     * given, else {@code top-k:20}; both given and different is a usage error naming both.
     */
    public static LogitsSpec fromOptions(LogitsSpec logits, Integer topK) {
        UsageException.require(
                topK == null || logits == null || logits.equals(topK(topK)),
                "--top-k " + topK + " and --logits " + logits
                        + " disagree: give one of them (--top-k K is --logits top-k:K)");
        if (logits != null) {
            return logits;
        }
        UsageException.require(topK == null || topK >= 1, "--top-k must be >= 1, got " + topK);
        return topK(topK != null ? topK : 20);
    }

    /** {@code top-k:k}. */
    public static LogitsSpec topK(int k) {
        return new LogitsSpec(Kind.TOP_K, k, 0, 0);
    }

    /** {@code top-p:p:kmax}. */
    public static LogitsSpec topP(double p, int kmax) {
        return new LogitsSpec(Kind.TOP_P, kmax, p, 0);
    }

    /** {@code sample:n:t}. */
    public static LogitsSpec sample(int n, double t) {
        return new LogitsSpec(Kind.SAMPLE, n, 0, t);
    }

    /**
     * Parses {@code top-k:K}, {@code top-p:P[:KMAX]} or {@code sample:N[:T]}.
     *
     * @throws IllegalArgumentException saying what is wrong and listing {@link #FORMS}
     */
    public static LogitsSpec parse(String spec) {
        String s = spec == null ? "" : spec.trim();
        String[] parts = s.split(":", -1);
        try {
            switch (parts[0]) {
                case "top-k" -> {
                    if (parts.length == 2) {
                        return topK(positive(parts[1], "K"));
                    }
                }
                case "top-p" -> {
                    if (parts.length == 2 || parts.length == 3) {
                        double p = Double.parseDouble(parts[1]);
                        if (!(p > 0 && p <= 1)) {
                            throw new IllegalArgumentException("P must be in (0, 1], got " + parts[1]);
                        }
                        return topP(p, parts.length == 3 ? positive(parts[2], "KMAX") : DEFAULT_TOP_P_MAX);
                    }
                }
                case "sample" -> {
                    if (parts.length == 2 || parts.length == 3) {
                        int n = positive(parts[1], "N");
                        double t = parts.length == 3 ? Double.parseDouble(parts[2]) : 1.0;
                        if (!(t > 0 && Double.isFinite(t))) {
                            throw new IllegalArgumentException("T must be > 0, got " + parts[2]);
                        }
                        return sample(n, t);
                    }
                }
                default -> throw new IllegalArgumentException("unknown kind '" + parts[0] + "'");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' has a malformed number; expected " + FORMS, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "': " + e.getMessage() + "; expected " + FORMS, e);
        }
        throw new IllegalArgumentException("'" + s + "' has the wrong number of fields; expected " + FORMS);
    }

    private static int positive(String value, String name) {
        int v = Integer.parseInt(value);
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return v;
    }

    /** Whether the entries of a position are draws with counts (else a top set sorted by log-probability). */
    public boolean sampled() {
        return kind == Kind.SAMPLE;
    }

    /** The canonical spelling: {@code top-k:20}, {@code top-p:0.95:64}, {@code sample:64:1}. */
    @Override
    public String toString() {
        return switch (kind) {
            case TOP_K -> "top-k:" + size;
            case TOP_P -> "top-p:" + number(mass) + ":" + size;
            case SAMPLE -> "sample:" + size + ":" + number(temperature);
        };
    }

    private static String number(double v) {
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
