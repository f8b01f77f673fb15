package dev.distill.pipeline.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server for a local teacher: GET /v1/models, POST /v1/completions (vLLM's subset
 * the distill pipeline uses: token-id prompts, top-k logprobs, prompt_logprobs, seeds) and GET /health.
 *
 * <p>Connections are handled by Jetty without a thread per connection: a connection that is slow or silent
 * (slowloris) costs a socket and a buffer, never a thread, and is closed after the idle timeout; bodies are read
 * asynchronously, and a request waiting for the model holds no thread either. Every model call goes through one
 * {@link BatchWorker}, which batches concurrent requests. Every request's work is bounded before it starts (see
 * {@link Limits}) and it is answered by its deadline (504 otherwise).
 */
public final class CompletionServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CompletionServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /**
     * What one request may ask and how long anything may take.
     *
     * @param maxLogprobs the most {@code logprobs} / {@code prompt_logprobs} a request may ask (vLLM's
     *     --max-logprobs, default 20)
     * @param maxPrompts the most prompts in one request
     * @param maxBodyBytes the largest request body (413 above)
     * @param requestTimeout a request not answered by then gets 504 and its rows are dropped
     * @param idleTimeout a connection that sends or takes nothing for this long is closed
     * @param maxConnections connections beyond this wait in the OS backlog until one closes
     * @param drain on close, how long the batch in progress may still run
     */
    public record Limits(
            int maxLogprobs,
            int maxPrompts,
            int maxBodyBytes,
            Duration requestTimeout,
            Duration idleTimeout,
            int maxConnections,
            Duration drain) {
        public static final Limits DEFAULT = new Limits(
                20, 256, 32 << 20, Duration.ofSeconds(600), Duration.ofSeconds(30), 1024, BatchWorker.DEFAULT_DRAIN);
    }

    /** Where and how to serve: the model's name, address, batch token budget, the API key clients must send (or null), limits. */
    public record Settings(String modelId, String host, int port, int maxBatchTokens, String apiKey, Limits limits) {
        /** With {@link Limits#DEFAULT}. */
        public Settings(String modelId, String host, int port, int maxBatchTokens, String apiKey) {
            this(modelId, host, port, maxBatchTokens, apiKey, Limits.DEFAULT);
        }
    }

    private final Teacher teacher;
    private final HfTokenizer tokenizer;
    private final Settings settings;
    private final Limits limits;
    private final int[] eosIds;
    private final BatchWorker worker;
    private final CompletionResponses responses;
    private final Server http;
    private final ServerConnector connector;
    private final QueuedThreadPool threads;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean modelFree = true;

    private CompletionServer(Teacher teacher, HfTokenizer tokenizer, Settings settings) {
        this.teacher = teacher;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.limits = settings.limits();
        this.eosIds = teacher.stopTokens(tokenizer);
        this.worker = new BatchWorker(teacher, settings.maxBatchTokens());
        this.responses = new CompletionResponses(tokenizer, settings.modelId());
        this.threads = new QueuedThreadPool(32, 4);
        threads.setName("serve-http");
        threads.setDaemon(true);
        this.http = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        config.setRequestHeaderSize(16 << 10);
        this.connector = new ServerConnector(http, 1, 1, new HttpConnectionFactory(config));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        connector.setAcceptQueueSize(128);
        http.addConnector(connector);
        http.addBean(new NetworkConnectionLimit(limits.maxConnections(), connector));
        http.setStopTimeout(2000);
        http.setHandler(new Routes());
    }

    /**
     * Binds and starts serving {@code teacher} (port 0 picks a free port; see {@link #port()}).
     *
     * @param tokenizer decodes text fields and encodes text prompts; null serves token ids only
     */
    public static CompletionServer start(Teacher teacher, HfTokenizer tokenizer, Settings settings) throws IOException {
        CompletionServer s = new CompletionServer(teacher, tokenizer, settings);
        s.worker.start();
        try {
            s.http.start();
        } catch (Exception e) {
            s.close();
            throw e instanceof IOException io
                    ? io
                    : new IOException(
                            "cannot serve on " + settings.host() + ":" + settings.port() + ": " + e.getMessage(), e);
        }
        return s;
    }

    /** The bound port. */
    public int port() {
        return connector.getLocalPort();
    }

    /** The OpenAI base URL clients use, e.g. http://127.0.0.1:8000/v1. */
    public String baseUrl() {
        String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "http://" + host + ":" + port() + "/v1";
    }

    /** Teacher calls made so far (one per planned batch). */
    long batchesRun() {
        return worker.batchesRun();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request).replaceAll("/+$", "");
            String method = request.getMethod();
            try {
                if (path.equals("/health")) {
                    send(response, callback, 200, null);
                    return true;
                }
                authorize(request);
                switch (path) {
                    case "/v1/models" -> {
                        requireMethod(method, "GET");
                        send(response, callback, 200, models());
                    }
                    case "/v1/completions" -> {
                        requireMethod(method, "POST");
                        if (request.getLength() > limits.maxBodyBytes()) {
                            throw tooLarge();
                        }
                        inFlight.incrementAndGet();
                        Content.Source.asByteArrayAsync(request, limits.maxBodyBytes())
                                .exceptionally(readError -> {
                                    throw new CompletionException(new BodyUnreadable(
                                            readError instanceof CompletionException c ? c.getCause() : readError));
                                })
                                .thenCompose(CompletionServer.this::complete)
                                .whenComplete((body, error) -> {
                                    try {
                                        if (error == null) {
                                            send(response, callback, 200, body);
                                        } else {
                                            fail(response, callback, method, path, error);
                                        }
                                    } finally {
                                        inFlight.decrementAndGet();
                                    }
                                });
                    }
                    default -> throw new BadRequestException(
                            404,
                            null,
                            "no route " + method + " " + path
                                    + " (this server offers GET /v1/models, POST /v1/completions, GET /health)");
                }
            } catch (Throwable e) {
                fail(response, callback, method, path, e);
            }
            return true;
        }
    }

    /** Reading the request body failed: too large, the client gone, or the idle timeout. */
    private static final class BodyUnreadable extends RuntimeException {
        BodyUnreadable(Throwable cause) {
            super(cause);
        }
    }

    private BadRequestException tooLarge() {
        return new BadRequestException(413, null, "the request body exceeds " + limits.maxBodyBytes() + " bytes");
    }

    private void fail(Response response, Callback callback, String method, String path, Throwable error) {
        Throwable e =
                error instanceof CompletionException || error instanceof ExecutionException ? error.getCause() : error;
        if (e instanceof BodyUnreadable unreadable) {
            Throwable cause = unreadable.getCause();
            if (cause instanceof IllegalStateException
                    && cause.getMessage() != null
                    && cause.getMessage()
                            .startsWith("Max size")) { // Content.Source's limit on a body without Content-Length
                send(response, callback, 413, error(413, tooLarge().getMessage(), null));
            } else if (cause instanceof TimeoutException) { // stalled past the idle timeout
                send(
                        response,
                        callback,
                        408,
                        error(
                                408,
                                "the request body did not arrive within --idle-timeout ("
                                        + limits.idleTimeout().toSeconds() + " s)",
                                null));
            } else { // the client went away, most likely: the write fails quietly if so
                send(response, callback, 400, error(400, "the request body could not be read: " + cause, null));
            }
        } else if (e instanceof BadRequestException b) {
            send(response, callback, b.status, error(b.status, b.getMessage(), b.param));
        } else if (e instanceof TimeoutException) {
            String m = "the request did not finish within "
                    + limits.requestTimeout().toSeconds() + " s (" + worker.queued()
                    + " rows waiting for the model); retry later, send fewer or shorter prompts, or raise"
                    + " --request-timeout";
            send(response, callback, 504, error(504, m, null));
        } else {
            LOG.error("{} {} failed: {}", method, path, String.valueOf(e));
            send(response, callback, 500, error(500, String.valueOf(e), null));
        }
    }

    private void authorize(Request request) {
        if (settings.apiKey() == null) {
            return;
        }
        String given = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        byte[] expected = ("Bearer " + settings.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            throw new BadRequestException(
                    401, null, "Unauthorized: missing or wrong API key (Authorization: Bearer ...)");
        }
    }

    private static void requireMethod(String method, String expected) {
        if (!method.equals(expected)) {
            throw new BadRequestException(405, null, "use " + expected + ", not " + method);
        }
    }

    private ObjectNode models() {
        ObjectNode r = F.objectNode();
        r.put("object", "list");
        ObjectNode m = r.putArray("data").addObject();
        m.put("id", settings.modelId());
        m.put("object", "model");
        m.put("created", System.currentTimeMillis() / 1000);
        m.put("owned_by", "distill");
        m.put("max_model_len", teacher.contextLength());
        m.put("vocab_size", teacher.vocabSize());
        m.put("max_logprobs", limits.maxLogprobs());
        ArrayNode eos = m.putArray("eos_token_ids");
        Arrays.stream(eosIds).forEach(eos::add);
        return r;
    }

    /** Parses and checks the request (bounding its work), queues its rows, and completes with the response or by the deadline. */
    private CompletableFuture<ObjectNode> complete(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new BadRequestException(
                    null,
                    "the request body is not valid JSON: "
                            + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        CompletionRequest req = CompletionRequest.parse(
                json,
                settings.modelId(),
                teacher.vocabSize(),
                teacher.contextLength(),
                limits.maxLogprobs(),
                limits.maxPrompts(),
                tokenizer);
        int[] stops = IntStream.concat(Arrays.stream(eosIds), Arrays.stream(req.stopTokenIds()))
                .distinct()
                .sorted()
                .toArray();
        BatchWorker.Key genKey = new BatchWorker.Key(
                false,
                Math.max(1, req.logprobs() == null ? 1 : req.logprobs()),
                req.greedy(),
                req.greedy() ? 1f : req.temperature(),
                req.greedy() ? 1f : req.topP(),
                Arrays.stream(stops).boxed().toList());
        Integer promptK = req.promptTopK();
        BatchWorker.Key scoreKey =
                promptK == null ? null : new BatchWorker.Key(true, Math.max(1, promptK), true, 1f, 1f, List.of());
        List<CompletableFuture<TeacherOutput>> scores = new ArrayList<>();
        List<CompletableFuture<TeacherOutput>> generations = new ArrayList<>();
        for (int i = 0; i < req.prompts().size(); i++) {
            int[] p = req.prompts().get(i);
            long seed = req.seed() != null
                    ? req.seed()
                    : ThreadLocalRandom.current().nextLong();
            scores.add(
                    scoreKey == null || p.length < 2
                            ? CompletableFuture.completedFuture(null)
                            : worker.submit(
                                    scoreKey,
                                    new WorkItem(i, 0, new int[] {p[0]}, Arrays.copyOfRange(p, 1, p.length), 0, seed)));
            generations.add(
                    req.maxTokens() == 0
                            ? CompletableFuture.completedFuture(null)
                            : worker.submit(genKey, new WorkItem(i, 0, p, null, req.maxTokens(), seed)));
        }
        List<CompletableFuture<TeacherOutput>> rows = new ArrayList<>(scores);
        rows.addAll(generations);
        CompletableFuture<Void> all = CompletableFuture.allOf(rows.toArray(CompletableFuture[]::new));
        // the first failing row fails the request at once; the others are dropped
        rows.forEach(r -> r.whenComplete((o, e) -> {
            if (e != null) {
                all.completeExceptionally(e);
            }
        }));
        return all.orTimeout(limits.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        rows.forEach(r -> r.completeExceptionally(e)); // not started: the model thread skips them
                    }
                })
                .thenApplyAsync(
                        v -> { // on an HTTP thread, not the model thread that completed the last row
                            List<CompletionResponses.Choice> choices = new ArrayList<>();
                            for (int i = 0; i < req.prompts().size(); i++) {
                                choices.add(new CompletionResponses.Choice(
                                        req.prompts().get(i),
                                        scores.get(i).join(),
                                        generations.get(i).join()));
                            }
                            return responses.response(req, choices);
                        },
                        threads);
    }

    /** vLLM's error body: {"error": {"message", "type", "param", "code"}}. */
    private static ObjectNode error(int status, String message, String param) {
        ObjectNode r = F.objectNode();
        ObjectNode e = r.putObject("error");
        e.put("message", message);
        e.put(
                "type",
                status == 404
                        ? "NotFoundError"
                        : status == 401
                                ? "AuthenticationError"
                                : status >= 500 ? "InternalServerError" : "BadRequestError");
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        e.put("code", status);
        return r;
    }

    private static void send(Response response, Callback callback, int status, ObjectNode body) {
        byte[] bytes;
        try {
            bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            callback.failed(e);
            return;
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }

    /**
     * True when the model thread has stopped, so the teacher may be closed; false after {@link #close} gave up
     * waiting for a batch still running on it.
     */
    public boolean modelFree() {
        return modelFree;
    }

    /**
     * Shuts down in order: stops accepting connections; refuses queued rows (503) and lets the batch in progress
     * run for {@link Limits#drain} (its requests fail with 503 after that); writes the pending answers and
     * closes the connections. The teacher stays open: close it only when {@link #modelFree()}.
     */
    @Override
    public void close() {
        try {
            connector.close(); // no new connections
        } catch (RuntimeException e) {
            LOG.warn("closing the listener: {}", e.toString());
        }
        modelFree = worker.shutdown(limits.drain());
        long answerBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(2); // every row has failed or finished by now
        while (inFlight.get() > 0 && System.nanoTime() < answerBy) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            http.stop();
        } catch (Exception e) {
            LOG.warn("stopping the HTTP server: {}", e.toString());
        }
    }
}
