package dev.distill.pipeline.remote;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSON over HTTP to an OpenAI-compatible server, with bounded jittered retries on connection failures,
 * timeouts, 408/429/5xx and truncated or malformed JSON; any other status fails at once naming the
 * status and the server's message. The API key goes only into the Authorization header: every message
 * and log line passes through {@link RemoteOptions#redact}.
 */
final class OpenAiClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiClient.class);
    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    /** Floats are read as decimals and rounded once to float32, so values cross the wire exactly. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** Reads a successful response's JSON; throws {@link ResponseFormatException} for a wrong shape (not retried). */
    interface Reader<T> {
        T read(JsonNode body);
    }

    private final RemoteOptions options;
    private final RetryPolicy retry;
    private final OkHttpClient http;

    OpenAiClient(RemoteOptions options) {
        this.options = options;
        this.retry = new RetryPolicy(options.maxRetries() + 1, options.backoffBase(), options.backoffMax());
        Duration timeout = options.requestTimeout();
        Dispatcher dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(Math.max(64, options.concurrency()));
        dispatcher.setMaxRequestsPerHost(Math.max(5, options.concurrency()));
        this.http = new OkHttpClient.Builder()
                .dispatcher(dispatcher)
                .connectionPool(new ConnectionPool(options.concurrency(), 5, TimeUnit.MINUTES))
                .connectTimeout(timeout.compareTo(Duration.ofSeconds(10)) < 0 ? timeout : Duration.ofSeconds(10))
                .readTimeout(timeout)
                .writeTimeout(timeout)
                .callTimeout(timeout)
                .retryOnConnectionFailure(false) // every retry goes through the policy, so attempts stay bounded
                .build();
    }

    /** GET {url}/{path}. */
    <T> T get(String path, Reader<T> reader) {
        return execute(request(path).get().build(), reader, null);
    }

    /** POST {url}/{path} with a JSON body; {@code batch} tags the call so that {@link #cancel} can stop it. */
    <T> T post(String path, ObjectNode body, Reader<T> reader, Batch batch) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return execute(
                request(path)
                        .post(RequestBody.create(bytes, JSON_TYPE))
                        .tag(Batch.class, batch)
                        .build(),
                reader,
                batch);
    }

    /** Marks a batch failed: its waiting retries give up and its calls in flight are cancelled. */
    void cancel(Batch batch) {
        batch.failed = true;
        for (Call c : http.dispatcher().runningCalls()) {
            if (c.request().tag(Batch.class) == batch) {
                c.cancel();
            }
        }
    }

    /** Calls sharing one fate: when one fails for good, the others stop. */
    static final class Batch {
        volatile boolean failed;
    }

    private Request.Builder request(String path) {
        Request.Builder b =
                new Request.Builder().url(options.url() + "/" + path).header("Accept", "application/json");
        if (options.apiKey() != null) {
            b.header("Authorization", "Bearer " + options.apiKey());
        }
        return b;
    }

    private <T> T execute(Request request, Reader<T> reader, Batch batch) {
        String what = request.method() + " " + request.url();
        for (int attempt = 1; ; attempt++) {
            if (batch != null && batch.failed) {
                throw new RemoteTeacherException(what + ": cancelled (another request of the batch failed)");
            }
            String failure;
            Duration retryAfter = null;
            try (Response r = http.newCall(request).execute()) {
                String body = r.body().string();
                if (r.isSuccessful()) {
                    JsonNode node = parse(body);
                    if (node != null) {
                        return reader.read(node);
                    }
                    failure = "malformed JSON in the response: " + abbreviate(body);
                } else if (RetryPolicy.retryableStatus(r.code())) {
                    failure = "HTTP " + r.code() + ": " + serverMessage(body);
                    retryAfter = RetryPolicy.retryAfter(r.header("Retry-After"));
                } else {
                    throw new RemoteTeacherException(options.redact(what + ": HTTP " + r.code()
                            + (r.message().isEmpty() ? "" : " " + r.message()) + ": " + serverMessage(body)));
                }
            } catch (IOException e) {
                if (batch != null && batch.failed) {
                    throw new RemoteTeacherException(what + ": cancelled (another request of the batch failed)");
                }
                failure = describe(e);
            }
            failure = options.redact(failure);
            if (attempt >= retry.maxAttempts()) {
                throw new RemoteTeacherException(what + ": failed after " + attempt + " attempt"
                        + (attempt == 1 ? "" : "s") + "; last error: " + failure);
            }
            Duration wait = retry.delay(attempt, retryAfter);
            LOG.warn("{}: {}; retry {}/{} in {} ms", what, failure, attempt, retry.maxAttempts() - 1, wait.toMillis());
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RemoteTeacherException(what + ": interrupted while waiting to retry after: " + failure);
            }
        }
    }

    /** The body as JSON, or null when it is not (a truncated or garbled response, worth a retry). */
    private static JsonNode parse(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            return node == null || node.isMissingNode() ? null : node;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The server's error message: OpenAI/vLLM's {"error": {"message"}}, {"message"}, {"detail"}, or the raw body. */
    static String serverMessage(String body) {
        JsonNode node = parse(body);
        if (node != null) {
            JsonNode error = node.get("error");
            if (error != null && error.isObject() && error.hasNonNull("message")) {
                return error.get("message").asText();
            }
            if (error != null && error.isTextual()) {
                return error.asText();
            }
            for (String f : new String[] {"message", "detail"}) {
                if (node.hasNonNull(f)) {
                    return node.get(f).isTextual()
                            ? node.get(f).asText()
                            : node.get(f).toString();
                }
            }
        }
        return body.isBlank() ? "(empty body)" : abbreviate(body.strip());
    }

    private String describe(IOException e) {
        if (e instanceof ConnectException) {
            return "connection refused (is the server running at " + options.url() + "?)";
        }
        if (e instanceof SocketTimeoutException
                || (e instanceof InterruptedIOException && "timeout".equals(e.getMessage()))) {
            long ms = options.requestTimeout().toMillis();
            return "timed out after " + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms") + " (--request-timeout)";
        }
        String m = e.getMessage();
        return "connection failed: " + e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 297) + "...";
    }

    @Override
    public void close() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
