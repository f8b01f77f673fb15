package dev.distill.pipeline;

/** What the teacher does with each prompt. */
public enum Mode {
    /** Sample a completion (temperature, top-p) and record the top-k at every generated position. */
    SAMPLE,
    /** Greedy completion, top-k at every generated position. */
    GREEDY,
    /** Teacher forcing over a given response: top-k at every response position, no generation. */
    SCORE;

    /** The spelling used on the command line, in the manifest and in finish reasons. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
