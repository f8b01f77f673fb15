package dev.distill.pipeline.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.TokenSampler;
import dev.distill.pipeline.WorkItem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import okhttp3.mockwebserver.SocketPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The remote teacher against canned vLLM responses and faults on a loopback MockWebServer. */
class RemoteTeacherTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODELS =
            "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\",\"max_model_len\":64,"
                    + "\"vocab_size\":16}]}";
    static final String GENERATION = "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"model\":\"m\",\"choices\":[{"
            + "\"index\":0,\"text\":\"abc\",\"logprobs\":{\"text_offset\":[0,1,2],"
            + "\"token_logprobs\":[-0.5,-1.25,-0.125],\"tokens\":[\"token_id:7\",\"token_id:3\",\"token_id:2\"],"
            + "\"top_logprobs\":[{\"token_id:7\":-0.5,\"token_id:9\":-1.5},"
            + "{\"token_id:3\":-1.25,\"token_id:4\":-0.75,\"token_id:5\":-2.0},"
            + "{\"token_id:2\":-0.125,\"token_id:8\":-3.0}]},\"finish_reason\":\"stop\",\"stop_reason\":null}],"
            + "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":6,\"completion_tokens\":3}}";
    static final String SCORE =
            "{\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"length\","
                    + "\"prompt_logprobs\":[null,{\"5\":{\"logprob\":-3.0,\"rank\":4,\"decoded_token\":\"x\"}},"
                    + "{\"6\":{\"logprob\":-0.25,\"rank\":1,\"decoded_token\":\"a\"},\"9\":{\"logprob\":-2.5,\"rank\":2}},"
                    + "{\"2\":{\"logprob\":-4.0,\"rank\":3},\"1\":{\"logprob\":-0.1,\"rank\":1},\"3\":{\"logprob\":-0.2,\"rank\":2}}]}]}";

    MockWebServer server;

    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws IOException {
        server = new MockWebServer();
        server.start(java.net.InetAddress.getLoopbackAddress(), 0);
    }

    @AfterEach
    void stop() throws IOException {
        server.shutdown();
    }

    RemoteOptions options(String apiKey, int retries, Duration timeout) {
        return new RemoteOptions(
                server.url("/v1").toString(),
                "m",
                apiKey,
                4,
                retries,
                timeout,
                Duration.ofMillis(10),
                Duration.ofMillis(50),
                null,
                null);
    }

    RemoteTeacher connect(String apiKey, int retries) {
        server.enqueue(json(200, MODELS));
        return RemoteTeacher.connect(options(apiKey, retries, Duration.ofSeconds(5)), new RemoteSampling(true, 1f, 1f));
    }

    static MockResponse json(int code, String body) {
        return new MockResponse()
                .setResponseCode(code)
                .setHeader("Content-Type", "application/json")
                .setBody(body);
    }

    static WorkItem item(int[] prompt, int[] response) {
        return new WorkItem(3, 0, prompt, response, 4, WorkItem.rowSeed(11, 3, 0));
    }

    static GenerationParams params(int k) {
        return new GenerationParams(k, new TokenSampler(true, 1f, 1f), new int[] {2, 7});
    }

    List<TeacherOutput> generate(RemoteTeacher t, int k) {
        return t.generate(List.of(item(new int[] {1, 5, 6}, null)), params(k));
    }

    /** The next completions request's body (after the /v1/models call). */
    JsonNode completionBody() throws Exception {
        RecordedRequest r;
        do {
            r = server.takeRequest(1, TimeUnit.SECONDS);
        } while (r != null && !r.getPath().endsWith("/completions"));
        return JSON.readTree(r.getBody().readUtf8());
    }

    @Test
    void generationSendsTokenIdsAndParsesTopKFromTokenIdStrings() throws Exception {
        try (RemoteTeacher t = connect("sekret-123", 0)) {
            assertEquals(16, t.vocabSize());
            assertEquals(64, t.contextLength());
            server.enqueue(json(200, GENERATION));
            TeacherOutput o = generate(t, 2).get(0);
            assertArrayEquals(new int[] {7, 3, 2}, o.completionIds());
            assertArrayEquals(new float[] {-0.5f, -1.25f, -0.125f}, o.completionLogprobs());
            // position 1: the sampled token 3 ranks second; vLLM's k+1-th entry (5) is dropped
            assertArrayEquals(new int[] {7, 9, 4, 3, 2, 8}, o.topkIds());
            assertArrayEquals(new float[] {-0.5f, -1.5f, -0.75f, -1.25f, -0.125f, -3.0f}, o.topkLogprobs());
            assertEquals("stop", o.finishReason());
            RecordedRequest models = server.takeRequest();
            assertEquals("GET /v1/models HTTP/1.1", models.getRequestLine());
            assertEquals("Bearer sekret-123", models.getHeader("Authorization"));
            RecordedRequest req = server.takeRequest();
            assertEquals("/v1/completions", req.getPath());
            assertEquals("Bearer sekret-123", req.getHeader("Authorization"));
            JsonNode b = JSON.readTree(req.getBody().readUtf8());
            assertEquals("m", b.get("model").asText());
            assertEquals("[1,5,6]", b.get("prompt").toString());
            assertEquals(4, b.get("max_tokens").asInt());
            assertEquals(2, b.get("logprobs").asInt());
            assertEquals(0.0, b.get("temperature").asDouble());
            assertEquals(WorkItem.rowSeed(11, 3, 0), b.get("seed").asLong());
            assertTrue(b.get("return_tokens_as_token_ids").asBoolean());
            assertEquals("[2,7]", b.get("stop_token_ids").toString());
            assertEquals(-1, b.get("top_k").asInt());
        }
    }

    @Test
    void scoringReadsPromptLogprobsOfTheResponsePositions() throws Exception {
        try (RemoteTeacher t = connect(null, 0)) {
            server.enqueue(json(200, SCORE));
            TeacherOutput o = t.score(List.of(item(new int[] {1, 5}, new int[] {6, 2})), 2)
                    .get(0);
            assertArrayEquals(new int[] {6, 2}, o.completionIds());
            assertArrayEquals(new float[] {-0.25f, -4.0f}, o.completionLogprobs());
            assertArrayEquals(new int[] {6, 9, 1, 3}, o.topkIds());
            assertArrayEquals(new float[] {-0.25f, -2.5f, -0.1f, -0.2f}, o.topkLogprobs());
            assertEquals("scored", o.finishReason());
            JsonNode b = completionBody();
            assertEquals("[1,5,6,2]", b.get("prompt").toString());
            assertEquals(0, b.get("max_tokens").asInt());
            assertTrue(b.get("echo").asBoolean());
            assertEquals(2, b.get("prompt_logprobs").asInt());
            assertEquals(null, server.takeRequest(0, TimeUnit.SECONDS), "no more requests");
        }
    }

    @Test
    void retriesOn429And503AndAConnectionDroppedMidResponse() throws Exception {
        try (RemoteTeacher t = connect(null, 3)) {
            server.enqueue(json(429, "{\"error\":{\"message\":\"slow down\"}}").setHeader("Retry-After", "0"));
            server.enqueue(json(503, "{\"error\":{\"message\":\"overloaded\"}}"));
            server.enqueue(json(200, GENERATION).setSocketPolicy(SocketPolicy.DISCONNECT_DURING_RESPONSE_BODY));
            server.enqueue(json(200, GENERATION));
            assertArrayEquals(new int[] {7, 3, 2}, generate(t, 2).get(0).completionIds());
            assertEquals(5, server.getRequestCount());
        }
    }

    @Test
    void aTimedOutRequestIsRetried() {
        server.enqueue(json(200, MODELS));
        try (RemoteTeacher t =
                RemoteTeacher.connect(options(null, 1, Duration.ofMillis(300)), new RemoteSampling(true, 1f, 1f))) {
            server.enqueue(json(200, GENERATION).setHeadersDelay(2, TimeUnit.SECONDS));
            server.enqueue(json(200, GENERATION));
            assertArrayEquals(new int[] {7, 3, 2}, generate(t, 2).get(0).completionIds());
            assertEquals(3, server.getRequestCount());
        }
    }

    @Test
    void malformedJsonIsRetriedThenFailsSayingSo() {
        try (RemoteTeacher t = connect(null, 2)) {
            for (int i = 0; i < 3; i++) {
                server.enqueue(json(200, "{\"choices\": [{\"index\": 0,"));
            }
            RemoteTeacherException e = assertThrows(RemoteTeacherException.class, () -> generate(t, 2));
            assertEquals(
                    "prompt 3 (sample 0): POST " + server.url("/v1/completions") + ": failed after 3 attempts;"
                            + " last error: malformed JSON in the response: {\"choices\": [{\"index\": 0,",
                    e.getMessage());
        }
    }

    @Test
    void fewerLogprobsThanAskedFailsAtOnceNamingTheField() {
        try (RemoteTeacher t = connect(null, 3)) {
            server.enqueue(json(200, GENERATION));
            RemoteTeacherException e = assertThrows(RemoteTeacherException.class, () -> generate(t, 3));
            assertEquals(
                    "prompt 3 (sample 0): choices[0].logprobs.top_logprobs[0] has 2 log-probs; asked for the top 3"
                            + " (vLLM: raise --max-logprobs)",
                    e.getMessage());
            assertEquals(2, server.getRequestCount(), "a short top-k is not retried");
        }
    }

    @Test
    void missingFieldsAndTokenStringsAreNamed() {
        try (RemoteTeacher t = connect(null, 0)) {
            server.enqueue(json(200, GENERATION.replace("\"logprobs\":{", "\"lp\":{")));
            assertEquals(
                    "prompt 3 (sample 0): choices[0].logprobs is missing",
                    assertThrows(RemoteTeacherException.class, () -> generate(t, 2))
                            .getMessage());
            server.enqueue(json(200, GENERATION.replace("\"token_id:3\",", "\"Hello\",")));
            assertTrue(assertThrows(RemoteTeacherException.class, () -> generate(t, 2))
                    .getMessage()
                    .startsWith("prompt 3 (sample 0): choices[0].logprobs.tokens[1] is 'Hello', not 'token_id:<id>'"));
            server.enqueue(json(200, SCORE.replace("\"2\":{\"logprob\":-4.0,\"rank\":3},", "")));
            assertEquals(
                    "prompt 3 (sample 0): choices[0].prompt_logprobs[3] lacks the scored token's own entry (id 2)",
                    assertThrows(
                                    RemoteTeacherException.class,
                                    () -> t.score(List.of(item(new int[] {1, 5}, new int[] {6, 2})), 2))
                            .getMessage());
        }
    }

    @Test
    void aClientErrorFailsAtOnceWithStatusAndServerMessage() {
        try (RemoteTeacher t = connect(null, 3)) {
            server.enqueue(json(
                    400,
                    "{\"error\":{\"message\":\"Requested sample logprobs of 50, which is greater than"
                            + " max allowed: 20\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}}"));
            RemoteTeacherException e = assertThrows(RemoteTeacherException.class, () -> generate(t, 2));
            assertEquals(
                    "prompt 3 (sample 0): POST " + server.url("/v1/completions") + ": HTTP 400 Client Error:"
                            + " Requested sample logprobs of 50, which is greater than max allowed: 20",
                    e.getMessage());
            assertEquals(2, server.getRequestCount());
        }
    }

    @Test
    void aServerThatIsDownFailsAfterBoundedRetries() throws IOException {
        String url = server.url("/v1").toString();
        server.shutdown();
        long start = System.nanoTime();
        RemoteTeacherException e = assertThrows(
                RemoteTeacherException.class,
                () -> RemoteTeacher.connect(
                        new RemoteOptions(
                                url,
                                "m",
                                null,
                                1,
                                2,
                                Duration.ofSeconds(2),
                                Duration.ofMillis(10),
                                Duration.ofMillis(20),
                                null,
                                null),
                        new RemoteSampling(true, 1f, 1f)));
        assertEquals(
                "GET " + url + "/models: failed after 3 attempts; last error: connection refused (is the server"
                        + " running at " + url + "?)",
                e.getMessage());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void anotherModelOrNoVocabularySizeIsRefusedClearly() {
        server.enqueue(json(200, "{\"data\":[{\"id\":\"other\",\"max_model_len\":64}]}"));
        RemoteOptions o = options(null, 0, Duration.ofSeconds(2));
        assertEquals(
                "--teacher-model m: the server at " + o.url() + " serves [other], not 'm'",
                assertThrows(
                                RemoteTeacherException.class,
                                () -> RemoteTeacher.connect(o, new RemoteSampling(true, 1f, 1f)))
                        .getMessage());
        server.enqueue(json(200, "{\"data\":[{\"id\":\"m\",\"max_model_len\":64}]}"));
        assertEquals(
                "--vocab-size: the server at " + o.url() + " does not report vocab_size for m; pass --vocab-size"
                        + " (the vocab_size in the teacher's config.json)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> RemoteTeacher.connect(o, new RemoteSampling(true, 1f, 1f)))
                        .getMessage());
    }

    @Test
    void aFailingItemCancelsTheRestOfItsBatch() {
        try (RemoteTeacher t = connect(null, 0)) {
            server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest r) {
                    return r.getBody().readUtf8().contains("\"prompt\":[9]")
                            ? json(400, "{\"error\":{\"message\":\"bad prompt\"}}")
                            : json(200, GENERATION).setHeadersDelay(4, TimeUnit.SECONDS);
                }
            });
            long start = System.nanoTime();
            RemoteTeacherException e = assertThrows(
                    RemoteTeacherException.class,
                    () -> t.generate(
                            List.of(
                                    item(new int[] {1}, null),
                                    new WorkItem(8, 0, new int[] {9}, null, 4, 1),
                                    item(new int[] {2}, null)),
                            params(2)));
            assertTrue(e.getMessage().startsWith("prompt 8 (sample 0): POST "), e.getMessage());
            assertTrue(e.getMessage().endsWith(": bad prompt"), e.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "the slow requests were not awaited");
        }
    }

    @Test
    void theApiKeyNeverAppearsInMessagesOrLogs() throws Exception {
        String key = "sk-SECRET-4242";
        Path keyFile = tmp.resolve("key");
        Files.writeString(keyFile, key + "\n");
        assertEquals(key, ApiKeys.resolve(keyFile, Map.of()));
        RemoteOptions o = options(ApiKeys.resolve(keyFile, Map.of()), 1, Duration.ofSeconds(2));
        assertFalse(o.toString().contains(key), o.toString());
        PrintStream oldErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RemoteTeacherException e;
        try {
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            server.enqueue(json(200, MODELS));
            try (RemoteTeacher t = RemoteTeacher.connect(o, new RemoteSampling(true, 1f, 1f))) {
                // a server that echoes the key back, first in a retried 503 (logged), then in a 401 (thrown)
                server.enqueue(json(503, "{\"error\":{\"message\":\"key " + key + " is rate limited\"}}"));
                server.enqueue(json(401, "{\"error\":{\"message\":\"invalid key " + key + "\"}}"));
                e = assertThrows(RemoteTeacherException.class, () -> generate(t, 2));
            }
        } finally {
            System.setErr(oldErr);
        }
        String logged = log.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("key *** is rate limited"), logged);
        assertFalse(logged.contains(key), logged);
        assertTrue(e.getMessage().endsWith("HTTP 401 Client Error: invalid key ***"), e.getMessage());
        assertFalse(e.getMessage().contains(key));
        server.takeRequest();
        assertEquals("Bearer " + key, server.takeRequest().getHeader("Authorization"));
    }

    @Test
    void apiKeyComesFromTheFileElseTheEnvironment() throws IOException {
        assertEquals("env-key", ApiKeys.resolve(null, Map.of(ApiKeys.ENV, " env-key ")));
        assertEquals(null, ApiKeys.resolve(null, Map.of()));
        Path empty = Files.writeString(tmp.resolve("empty"), "\n");
        assertEquals(
                "--api-key-file " + empty + " is empty",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ApiKeys.resolve(empty, Map.of(ApiKeys.ENV, "env-key")))
                        .getMessage());
        Path missing = tmp.resolve("missing");
        assertEquals(
                "--api-key-file " + missing + ": no such file",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.resolve(missing, Map.of()))
                        .getMessage());
    }

    @Test
    void backoffDoublesWithJitterAndHonoursRetryAfterUpToTheCap() {
        RetryPolicy p = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(1000));
        for (int i = 0; i < 50; i++) {
            long d1 = p.delay(1, null).toMillis();
            long d3 = p.delay(3, null).toMillis();
            long d9 = p.delay(9, null).toMillis();
            assertTrue(d1 >= 50 && d1 <= 100, "attempt 1: " + d1);
            assertTrue(d3 >= 200 && d3 <= 400, "attempt 3: " + d3);
            assertTrue(d9 >= 500 && d9 <= 1000, "attempt 9: " + d9);
        }
        assertEquals(700, p.delay(1, Duration.ofMillis(700)).toMillis());
        assertEquals(1000, p.delay(1, Duration.ofSeconds(30)).toMillis());
        assertEquals(Duration.ofSeconds(3), RetryPolicy.retryAfter(" 3 "));
        assertEquals(null, RetryPolicy.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
        assertTrue(RetryPolicy.retryableStatus(429)
                && RetryPolicy.retryableStatus(502)
                && RetryPolicy.retryableStatus(408));
        assertFalse(RetryPolicy.retryableStatus(400)
                || RetryPolicy.retryableStatus(401)
                || RetryPolicy.retryableStatus(404));
    }
}
