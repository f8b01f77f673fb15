package dev.distill.pipeline.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `distill serve` against abuse and faults, on 127.0.0.1 with a scripted teacher (no model): bounded requests,
 * slow and silent connections, deadlines. Every loop is bounded in count and every wait in time.
 */
class ServeFaultsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    static final String KEY = "sk-test-key";

    static CompletionServer server(ScriptedTeacher teacher, String apiKey, CompletionServer.Limits limits)
            throws IOException {
        return CompletionServer.start(
                teacher, null, new CompletionServer.Settings("scripted", "127.0.0.1", 0, 4096, apiKey, limits));
    }

    static CompletionServer.Limits limits(int maxLogprobs, int maxBodyBytes, Duration requestTimeout, Duration idle) {
        CompletionServer.Limits d = CompletionServer.Limits.DEFAULT;
        return new CompletionServer.Limits(
                maxLogprobs,
                d.maxPrompts(),
                maxBodyBytes,
                requestTimeout,
                idle,
                d.maxConnections(),
                Duration.ofSeconds(2));
    }

    static HttpResponse<String> post(CompletionServer s, HttpRequest.BodyPublisher body, String auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + "/completions"))
                .POST(body)
                .timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json");
        if (auth != null) {
            b.header("Authorization", "Bearer " + auth);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(CompletionServer s, String body) throws Exception {
        return post(s, HttpRequest.BodyPublishers.ofString(body), null);
    }

    static String message(HttpResponse<String> r) throws IOException {
        JsonNode e = JSON.readTree(r.body()).get("error");
        return e.get("message").asText()
                + (e.get("param").isNull() ? "" : " [" + e.get("param").asText() + "]");
    }

    @Test
    void logprobsPromptsAndBodiesAreBoundedBeforeAnyWorkStarts() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        try (CompletionServer s =
                server(teacher, null, limits(20, 64 << 10, Duration.ofSeconds(60), Duration.ofSeconds(30)))) {
            StringBuilder prompt = new StringBuilder("[1");
            for (int i = 1; i < 200; i++) {
                prompt.append(", ").append(3 + i % 500);
            }
            prompt.append(']');
            HttpResponse<String> r = post(
                    s,
                    "{\"prompt\": " + prompt + ", \"max_tokens\": 0, \"echo\": true,"
                            + " \"prompt_logprobs\": 100000}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(
                    "Requested prompt logprobs of 100000, which is greater than max allowed: 20 (distill serve"
                            + " --max-logprobs) [prompt_logprobs]",
                    message(r));
            r = post(s, "{\"prompt\": [1, 5], \"max_tokens\": 1, \"logprobs\": 21}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(
                    "Requested sample logprobs of 21, which is greater than max allowed: 20 (distill serve"
                            + " --max-logprobs) [logprobs]",
                    message(r));
            assertEquals(List.of(), teacher.batchSizes, "nothing reached the model");
            assertEquals(
                    200,
                    post(s, "{\"prompt\": [1, 5], \"max_tokens\": 1, \"logprobs\": 20}")
                            .statusCode());

            StringBuilder many = new StringBuilder("[");
            for (int i = 0; i < 257; i++) {
                many.append(i == 0 ? "" : ", ").append("[1, 5]");
            }
            r = post(s, "{\"prompt\": " + many + "], \"max_tokens\": 1}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals(
                    "a request may hold at most 256 prompts, got 257; send them in several requests [prompt]",
                    message(r));

            byte[] big =
                    ("{\"prompt\": [1, 5], \"pad\": \"" + "x".repeat(70_000) + "\"}").getBytes(StandardCharsets.UTF_8);
            r = post(s, HttpRequest.BodyPublishers.ofByteArray(big), null); // with a Content-Length
            assertEquals(413, r.statusCode(), r.body());
            assertEquals("the request body exceeds 65536 bytes", message(r));
            r = post(s, HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)), null); // chunked
            assertEquals(413, r.statusCode(), r.body());
            assertEquals(1, teacher.batchSizes.size());
        }
    }

    /**
     * 80 connections that send part of their headers, or all headers and no body, then stall: /health and an
     * authenticated completion are still answered, and the stalled connections are closed after the idle timeout.
     */
    @Test
    void stalledConnectionsNeitherBlockRequestsNorStayOpen() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        List<Socket> stalled = new ArrayList<>();
        try (CompletionServer s =
                server(teacher, KEY, limits(20, 1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(3)))) {
            for (int i = 0; i < 80; i++) {
                Socket socket = new Socket(InetAddress.getLoopbackAddress(), s.port());
                socket.setSoTimeout(15_000);
                String head =
                        "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY + "\r\n";
                OutputStream out = socket.getOutputStream();
                out.write((i % 2 == 0 ? head : head + "Content-Length: 500\r\n\r\n{\"prompt\"")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                stalled.add(socket);
            }
            long t0 = System.nanoTime();
            HttpResponse<String> health = HTTP.send(
                    HttpRequest.newBuilder(URI.create(s.baseUrl().replace("/v1", "/health")))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            HttpResponse<String> done =
                    post(s, HttpRequest.BodyPublishers.ofString("{\"prompt\": [1, 5], \"max_tokens\": 1}"), KEY);
            assertEquals(200, done.statusCode(), done.body());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "answered while 80 connections stall");
            assertEquals(
                    401,
                    post(s, HttpRequest.BodyPublishers.ofString("{\"prompt\": [1, 5]}"), null)
                            .statusCode());

            for (Socket socket : stalled) { // each is closed by the server (an optional 408/400 first), none hangs
                InputStream in = socket.getInputStream();
                try {
                    while (in.read() >= 0) {
                        // drain the error response, if any
                    }
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("a stalled connection was still open after 15 s (idle timeout 3 s)");
                } catch (IOException e) {
                    // reset by the server: closed too
                }
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    void aRequestNotAnsweredByItsDeadlineGets504AndItsRowsAreDropped() throws Exception {
        ScriptedTeacher teacher = new ScriptedTeacher();
        CountDownLatch release = new CountDownLatch(1);
        teacher.before = b -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (CompletionServer s =
                server(teacher, null, limits(20, 1 << 20, Duration.ofSeconds(1), Duration.ofSeconds(30)))) {
            HttpResponse<String> first = post(s, "{\"prompt\": [1, 5], \"max_tokens\": 1}"); // occupies the model
            assertEquals(504, first.statusCode(), first.body());
            assertTrue(message(first).startsWith("the request did not finish within 1 s ("), first.body());
            HttpResponse<String> second = post(s, "{\"prompt\": [1, 6], \"max_tokens\": 1, \"temperature\": 0.5}");
            assertEquals(504, second.statusCode(), second.body()); // queued behind it
            release.countDown();
            teacher.before = b -> {};
            assertEquals(200, post(s, "{\"prompt\": [1, 7], \"max_tokens\": 1}").statusCode());
            assertEquals(List.of(1, 1), teacher.batchSizes, "the timed-out queued row never ran");
        }
    }

    /** SIGTERM while a batch runs for a minute: the process exits within the drain time and the request gets 503. */
    @Test
    void sigtermDuringALongBatchStopsTheServerInOrder(@TempDir Path tmp) throws Exception {
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                SlowServeMain.class.getName());
        Path log = tmp.resolve("child.log");
        Process child = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            String port = await(log, "port ");
            CompletableFuture<HttpResponse<String>> pending = HTTP.sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.substring(5) + "/v1/completions"))
                            .timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": [1, 5], \"max_tokens\": 1}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            await(log, "batch started");
            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "still running 30 s after SIGTERM (drain 1 s)");
            assertEquals(143, child.exitValue());
            HttpResponse<String> r = pending.get(10, TimeUnit.SECONDS);
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(message(r).startsWith("the server is shutting down"), r.body());
            assertEquals("stopped; model free: false", await(log, "stopped"));
        } finally {
            child.destroyForcibly();
        }
    }

    /** The first line of the child's output starting with {@code prefix}, waiting at most 60 s for it. */
    static String await(Path log, String prefix) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log)) {
                    if (line.startsWith(prefix)) {
                        return line;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no line starting with '" + prefix + "' within 60 s: "
                + (Files.exists(log) ? Files.readString(log) : "no output"));
    }
}
