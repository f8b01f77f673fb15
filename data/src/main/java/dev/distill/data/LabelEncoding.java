package dev.distill.data;

import java.util.Locale;

/** How a version-2 shard stores its label entries ({@code --encoding}); see docs/shard-format.md. */
public enum LabelEncoding {
    /** Ids and log-probabilities as int32 / float32 lists, each position's entries in the order the kind defines. */
    PLAIN("plain"),
    /** Ids sorted and delta-coded per position, log-probabilities quantised against the position's maximum. */
    COMPACT("compact");

    private final String spelling;

    LabelEncoding(String spelling) {
        this.spelling = spelling;
    }

    /** The spelling in {@code --encoding} and in metadata. */
    public String spelling() {
        return spelling;
    }

    /** Parses {@code plain} or {@code compact}; the message lists both. */
    public static LabelEncoding parse(String s) {
        String n = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
        for (LabelEncoding e : values()) {
            if (e.spelling.equals(n)) {
                return e;
            }
        }
        throw new IllegalArgumentException("encoding '" + s + "' is not one of plain, compact");
    }
}
