package dev.distill.pipeline.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.distill.pipeline.Teacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP server (the JDK's com.sun.net.httpserver) for a local teacher: GET /v1/models,
 * POST /v1/completions (vLLM's subset the distill pipeline uses: token-id prompts, top-k logprobs,
 * prompt_logprobs, seeds) and GET /health. Connections are served by a thread pool; every model call
 * goes through one {@link BatchWorker}, which batches concurrent requests.
 */
public final class CompletionServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CompletionServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Where and how to serve: the model's name, address, batch token budget, and the API key clients must send (or null). */
    public record Settings(String modelId, String host, int port, int maxBatchTokens, String apiKey) {}

    private final Teacher teacher;
    private final HfTokenizer tokenizer;
    private final Settings settings;
    private final int[] eosIds;
    private final BatchWorker worker;
    private final CompletionResponses responses;
    private final HttpServer http;
    private final ExecutorService connections;

    private CompletionServer(Teacher teacher, HfTokenizer tokenizer, Settings settings) throws IOException {
        this.teacher = teacher;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.eosIds = teacher.stopTokens(tokenizer);
        this.worker = new BatchWorker(teacher, settings.maxBatchTokens());
        this.responses = new CompletionResponses(tokenizer, settings.modelId());
        this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 128);
        AtomicInteger n = new AtomicInteger();
        this.connections = Executors.newFixedThreadPool(64, r -> {
            Thread t = new Thread(r, "serve-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(connections);
        http.createContext("/", this::handle);
    }

    /**
     * Binds and starts serving {@code teacher} (port 0 picks a free port; see {@link #port()}).
     *
     * @param tokenizer decodes text fields and encodes text prompts; null serves token ids only
     */
    public static CompletionServer start(Teacher teacher, HfTokenizer tokenizer, Settings settings) throws IOException {
        CompletionServer s = new CompletionServer(teacher, tokenizer, settings);
        s.worker.start();
        s.http.start();
        return s;
    }

    /** The bound port. */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The OpenAI base URL clients use, e.g. http://127.0.0.1:8000/v1. */
    public String baseUrl() {
        String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "http://" + host + ":" + port() + "/v1";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath().replaceAll("/+$", "");
            String method = ex.getRequestMethod();
            try {
                if (path.equals("/health")) {
                    send(ex, 200, null);
                    return;
                }
                authorize(ex);
                switch (path) {
                    case "/v1/models" -> {
                        requireMethod(method, "GET");
                        send(ex, 200, models());
                    }
                    case "/v1/completions" -> {
                        requireMethod(method, "POST");
                        send(ex, 200, complete(ex.getRequestBody().readAllBytes()));
                    }
                    default -> throw new BadRequestException(404, null, "no route " + method + " " + path
                            + " (this server offers GET /v1/models, POST /v1/completions, GET /health)");
                }
            } catch (BadRequestException e) {
                send(ex, e.status, error(e.status, e.getMessage(), e.param));
            } catch (RuntimeException e) {
                LOG.error("{} {} failed", method, path, e);
                send(ex, 500, error(500, e.toString(), null));
            }
        }
    }

    private void authorize(HttpExchange ex) {
        if (settings.apiKey() == null) {
            return;
        }
        String given = ex.getRequestHeaders().getFirst("Authorization");
        byte[] expected = ("Bearer " + settings.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            throw new BadRequestException(401, null, "Unauthorized: missing or wrong API key (Authorization: Bearer ...)");
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
        ArrayNode eos = m.putArray("eos_token_ids");
        Arrays.stream(eosIds).forEach(eos::add);
        return r;
    }

    private ObjectNode complete(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new BadRequestException(null, "the request body is not valid JSON: " + (e instanceof JsonProcessingException j
                    ? j.getOriginalMessage() : e.getMessage()));
        }
        CompletionRequest req = CompletionRequest.parse(json, settings.modelId(), teacher.vocabSize(),
                teacher.contextLength(), tokenizer);
        int[] stops = IntStream.concat(Arrays.stream(eosIds), Arrays.stream(req.stopTokenIds())).distinct().sorted().toArray();
        BatchWorker.Key genKey = new BatchWorker.Key(false, Math.max(1, req.logprobs() == null ? 1 : req.logprobs()),
                req.greedy(), req.greedy() ? 1f : req.temperature(), req.greedy() ? 1f : req.topP(),
                Arrays.stream(stops).boxed().toList());
        Integer promptK = req.promptTopK();
        BatchWorker.Key scoreKey = promptK == null ? null
                : new BatchWorker.Key(true, Math.max(1, promptK), true, 1f, 1f, List.of());
        List<CompletableFuture<TeacherOutput>> scores = new ArrayList<>();
        List<CompletableFuture<TeacherOutput>> generations = new ArrayList<>();
        for (int i = 0; i < req.prompts().size(); i++) {
            int[] p = req.prompts().get(i);
            long seed = req.seed() != null ? req.seed() : ThreadLocalRandom.current().nextLong();
            scores.add(scoreKey == null || p.length < 2 ? CompletableFuture.completedFuture(null)
                    : worker.submit(scoreKey, new WorkItem(i, 0, new int[] {p[0]}, Arrays.copyOfRange(p, 1, p.length),
                            0, seed)));
            generations.add(req.maxTokens() == 0 ? CompletableFuture.completedFuture(null)
                    : worker.submit(genKey, new WorkItem(i, 0, p, null, req.maxTokens(), seed)));
        }
        List<CompletionResponses.Choice> choices = new ArrayList<>();
        for (int i = 0; i < req.prompts().size(); i++) {
            choices.add(new CompletionResponses.Choice(req.prompts().get(i), await(scores.get(i)),
                    await(generations.get(i))));
        }
        return responses.response(req, choices);
    }

    private static TeacherOutput await(CompletableFuture<TeacherOutput> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** vLLM's error body: {"error": {"message", "type", "param", "code"}}. */
    private static ObjectNode error(int status, String message, String param) {
        ObjectNode r = F.objectNode();
        ObjectNode e = r.putObject("error");
        e.put("message", message);
        e.put("type", status == 404 ? "NotFoundError" : status == 401 ? "AuthenticationError"
                : status >= 500 ? "InternalServerError" : "BadRequestError");
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        e.put("code", status);
        return r;
    }

    private static void send(HttpExchange ex, int status, ObjectNode body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Stops accepting connections, finishes nothing new, and stops the model thread (the teacher stays open). */
    @Override
    public void close() {
        http.stop(0);
        worker.close();
        connections.shutdownNow();
    }
}
