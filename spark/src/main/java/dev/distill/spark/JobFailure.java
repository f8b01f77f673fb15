package dev.distill.spark;

import org.apache.spark.SparkException;

/** The one line a user sees for a failed command: for a failed Spark job, the task's own error. */
final class JobFailure {
    private JobFailure() {}

    /** The message of the first cause that is not Spark's wrapper, or the first line of Spark's. */
    static String describe(Throwable e) {
        Throwable t = e;
        while (t instanceof SparkException && t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getSimpleName();
        }
        return t instanceof SparkException ? m.lines().findFirst().orElse(m) : m;
    }
}
