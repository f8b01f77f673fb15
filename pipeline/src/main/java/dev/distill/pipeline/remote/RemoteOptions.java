package dev.distill.pipeline.remote;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import okhttp3.HttpUrl;

/**
 * How to reach an OpenAI-compatible completions server (vLLM or `distill serve`) and how hard to try:
 * base URL (ending in /v1), served model name, API key, requests in flight, retries and timeouts, and
 * the teacher's vocabulary size and context length when the server does not report them.
 * {@link #toString()} never shows the API key.
 */
public record RemoteOptions(
        String url,
        String model,
        String apiKey,
        int concurrency,
        int maxRetries,
        Duration requestTimeout,
        Duration backoffBase,
        Duration backoffMax,
        Integer vocabSize,
        Integer contextLength) {

    /** First retry waits about this long; each further one doubles it. */
    public static final Duration DEFAULT_BACKOFF_BASE = Duration.ofSeconds(1);
    /** No retry waits longer than this (a server's Retry-After is capped by it too). */
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(60);

    public RemoteOptions {
        HttpUrl parsed = url == null ? null : HttpUrl.parse(url);
        if (parsed == null) {
            throw new IllegalArgumentException(
                    "--teacher-url: '" + url + "' is not an http(s) URL (e.g. http://host:8000/v1)");
        }
        url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("--teacher-model: the served model name is required with --teacher-url");
        }
        require(concurrency >= 1, "--concurrency must be >= 1, got " + concurrency);
        require(maxRetries >= 0, "--max-retries must be >= 0, got " + maxRetries);
        require(!requestTimeout.isNegative() && !requestTimeout.isZero(), "--request-timeout must be > 0");
        require(
                !backoffBase.isNegative() && backoffMax.compareTo(backoffBase) >= 0,
                "backoff must be 0 <= base <= max");
        require(vocabSize == null || vocabSize >= 1, "--vocab-size must be >= 1, got " + vocabSize);
        require(contextLength == null || contextLength >= 2, "--context-length must be >= 2, got " + contextLength);
    }

    /** Options with the default backoff (1 s doubling up to 60 s, jittered). */
    public static RemoteOptions of(
            String url,
            String model,
            String apiKey,
            int concurrency,
            int maxRetries,
            Duration requestTimeout,
            Integer vocabSize,
            Integer contextLength) {
        return new RemoteOptions(
                url,
                model,
                apiKey,
                concurrency,
                maxRetries,
                requestTimeout,
                DEFAULT_BACKOFF_BASE,
                DEFAULT_BACKOFF_MAX,
                vocabSize,
                contextLength);
    }

    /** Hash recorded as the shards' teacher_sha256: the server URL and model name (the weights are not visible). */
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(("openai-completions\n" + url + "\n" + model).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Replaces every occurrence of the API key in {@code text}, so that no message or log line can carry it. */
    public String redact(String text) {
        return text == null || apiKey == null || apiKey.isEmpty() ? text : text.replace(apiKey, "***");
    }

    @Override
    public String toString() {
        return "RemoteOptions[url=" + url + ", model=" + model + ", apiKey=" + (apiKey == null ? "none" : "***")
                + ", concurrency=" + concurrency + ", maxRetries=" + maxRetries + ", requestTimeout=" + requestTimeout
                + ", backoff=" + backoffBase + ".." + backoffMax + ", vocabSize=" + vocabSize
                + ", contextLength=" + contextLength + "]";
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
