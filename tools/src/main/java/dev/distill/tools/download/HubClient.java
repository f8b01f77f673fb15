package dev.distill.tools.download;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.pipeline.remote.RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Hugging Face hub's HTTP API: a repository's file list at a revision, and a file's bytes (from an
 * offset, with HTTP Range). Sends HF_TOKEN as a bearer token (OkHttp drops it on redirects to another host,
 * such as the hub's CDN) and turns 401/403/404 into messages that say what to do.
 */
public final class HubClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpUrl endpoint;
    private final String token;
    private final RetryPolicy retry;
    private final OkHttpClient http;

    /**
     * @param endpoint the hub, e.g. https://huggingface.co (HF_ENDPOINT)
     * @param token HF_TOKEN, or null
     */
    public HubClient(String endpoint, String token, RetryPolicy retry, Duration timeout) {
        HttpUrl url = HttpUrl.parse(endpoint);
        if (url == null) {
            throw new IllegalArgumentException("hub endpoint '" + endpoint + "' is not an http(s) URL");
        }
        this.endpoint = url;
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.retry = retry;
        this.http = new OkHttpClient.Builder()
                .connectTimeout(timeout)
                .readTimeout(timeout)
                .retryOnConnectionFailure(false)
                .followRedirects(true)
                .build();
    }

    /** GET /api/models/{repo}/revision/{revision}?blobs=true, retried on connection failures, 429 and 5xx. */
    public RepoInfo info(String repo, String revision) {
        HttpUrl url = endpoint.newBuilder()
                .addPathSegment("api")
                .addPathSegment("models")
                .addPathSegments(repo)
                .addPathSegment("revision")
                .addPathSegment(revision)
                .addQueryParameter("blobs", "true")
                .build();
        String what = "GET " + url;
        for (int attempt = 1; ; attempt++) {
            String failure;
            Duration retryAfter = null;
            try (Response r = http.newCall(request(url).build()).execute()) {
                String body = r.body().string();
                if (r.isSuccessful()) {
                    JsonNode json;
                    try {
                        json = JSON.readTree(body);
                    } catch (IOException e) {
                        throw new DownloadException(what + ": the hub's answer is not JSON: " + abbreviate(body));
                    }
                    return RepoInfo.parse(repo, json, what);
                }
                if (!RetryPolicy.retryableStatus(r.code())) {
                    throw refused(r.code(), r.header("X-Error-Code"), message(r, body), repo, revision, null);
                }
                failure = "HTTP " + r.code() + ": " + message(r, body);
                retryAfter = RetryPolicy.retryAfter(r.header("Retry-After"));
            } catch (IOException e) {
                failure = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            pause(what, failure, attempt, retryAfter);
        }
    }

    /** GET {endpoint}/{repo}/resolve/{commit}/{file}, from byte {@code from} on (a Range request when > 0). */
    Response file(String repo, String commit, String file, long from) throws IOException {
        HttpUrl url = endpoint.newBuilder()
                .addPathSegments(repo)
                .addPathSegment("resolve")
                .addPathSegment(commit)
                .addPathSegments(file)
                .build();
        Request.Builder b = request(url);
        if (from > 0) {
            b.header("Range", "bytes=" + from + "-");
        }
        return http.newCall(b.build()).execute();
    }

    /** Waits before retry {@code attempt}, or throws when the attempts are spent. */
    void pause(String what, String failure, int attempt, Duration retryAfter) {
        if (attempt >= retry.maxAttempts()) {
            throw new DownloadException(what + ": failed after " + attempt + " attempt" + (attempt == 1 ? "" : "s")
                    + "; last error: " + failure);
        }
        Duration wait = retry.delay(attempt, retryAfter);
        LOG.warn("{}: {}; retry {}/{} in {} ms", what, failure, attempt, retry.maxAttempts() - 1, wait.toMillis());
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException(what + ": interrupted");
        }
    }

    /** A 4xx as a message naming the repository, revision or file, and what to do about it. */
    DownloadException refused(int code, String errorCode, String message, String repo, String revision, String file) {
        String where = file == null ? repo : repo + "/" + file;
        if (code == 401 || code == 403) {
            return new DownloadException(where + ": the hub refused access (HTTP " + code + ": " + message + "). "
                    + (token == null
                            ? "The repository may be private or gated: set HF_TOKEN to a token that can read it."
                            : "The token in HF_TOKEN was refused, or it has no access to this repository (gated: accept"
                                    + " its terms on the hub)."));
        }
        if (code == 404) {
            if ("RevisionNotFound".equals(errorCode)) {
                return new DownloadException(
                        repo + ": revision '" + revision + "' not found (HTTP 404: " + message + ")");
            }
            if ("EntryNotFound".equals(errorCode) || file != null) {
                return new DownloadException(
                        where + ": file not found at revision " + revision + " (HTTP 404: " + message + ")");
            }
            return new DownloadException(repo + ": repository not found at " + endpoint + " (HTTP 404: " + message + ")"
                    + (token == null ? "; if it is private, set HF_TOKEN" : ""));
        }
        return new DownloadException(where + ": HTTP " + code + ": " + message);
    }

    /** The hub's X-Error-Message header, its JSON {"error"}, or the body. */
    static String message(Response r, String body) {
        String header = r.header("X-Error-Message");
        if (header != null && !header.isBlank()) {
            return header;
        }
        try {
            JsonNode json = JSON.readTree(body);
            if (json != null && json.hasNonNull("error")) {
                return json.get("error").asText();
            }
        } catch (IOException e) {
            // not JSON: the body itself
        }
        return body == null || body.isBlank() ? "(no message)" : abbreviate(body.strip());
    }

    private Request.Builder request(HttpUrl url) {
        Request.Builder b = new Request.Builder().url(url).header("User-Agent", "distill-download");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    @Override
    public void close() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
