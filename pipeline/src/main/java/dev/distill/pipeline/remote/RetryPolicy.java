package dev.distill.pipeline.remote;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded retries with exponential backoff and jitter: attempt n (1-based) waits a uniformly random
 * time in [d/2, d] with d = min(max, base x 2^(n-1)), or the server's Retry-After when that is longer
 * (capped by max). Which failures are worth retrying is decided here too.
 */
public record RetryPolicy(int maxAttempts, Duration base, Duration max) {

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
        }
    }

    /** How long to wait after failed attempt {@code attempt}; {@code retryAfter} is the server's hint or null. */
    public Duration delay(int attempt, Duration retryAfter) {
        long cap = max.toMillis();
        long d = Math.min(cap, base.toMillis() << Math.min(attempt - 1, 30));
        long wait = d / 2 + ThreadLocalRandom.current().nextLong(d - d / 2 + 1);
        if (retryAfter != null) {
            wait = Math.max(wait, Math.min(cap, retryAfter.toMillis()));
        }
        return Duration.ofMillis(wait);
    }

    /** Statuses that mean "try again later": 408, 429 and every 5xx. */
    public static boolean retryableStatus(int code) {
        return code == 408 || code == 429 || code >= 500;
    }

    /** A Retry-After header in seconds, or null when absent or not a number of seconds. */
    public static Duration retryAfter(String header) {
        if (header == null) {
            return null;
        }
        try {
            long s = Long.parseLong(header.trim());
            return s >= 0 ? Duration.ofSeconds(s) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
