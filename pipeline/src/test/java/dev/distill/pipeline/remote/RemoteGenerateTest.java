package dev.distill.pipeline.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.cli.ValidateCommand;
import dev.distill.pipeline.ChatTemplateOptionsTest;
import dev.distill.pipeline.Fixtures;
import dev.distill.pipeline.LocalTeacher;
import dev.distill.pipeline.serve.CompletionServer;
import dev.distill.pipeline.serve.TestModels;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.mockwebserver.Dispatcher;
import okhttp3.mockwebserver.MockResponse;
import okhttp3.mockwebserver.MockWebServer;
import okhttp3.mockwebserver.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * `distill generate --teacher-url` end to end against `distill serve` on a loopback port: the same shards as the
 * local teacher (greedy, sampled and score mode), and faults between them that never leave a partial shard.
 */
class RemoteGenerateTest {
    static LocalTeacher teacher;
    static HfTokenizer tokenizer;
    static CompletionServer server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws IOException {
        teacher = TestModels.llamaTeacher();
        tokenizer = HfTokenizer.load(Fixtures.tinyTokenizer());
        server = CompletionServer.start(
                teacher, tokenizer, new CompletionServer.Settings("tiny-llama", "127.0.0.1", 0, 4096, null));
    }

    @AfterAll
    static void stop() {
        server.close();
        tokenizer.close();
        teacher.close();
    }

    Path corpus(String... lines) throws IOException {
        return Fixtures.corpus(tmp, lines);
    }

    Path chatCorpus() throws IOException {
        return corpus(
                "{\"prompt\": \"What is a prime number?\"}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Name a color.\"}]}",
                "{\"text\": \"Once upon a time\"}",
                "{\"prompt\": \"Write a haiku about rain.\"}",
                "{\"prompt\": \"Explain recursion in one sentence.\"}",
                "{\"text\": \"The quick brown fox\"}",
                "{\"prompt\": \"Count to five.\"}");
    }

    static List<String> args(Path corpus, Path out, String mode, String... teacherArgs) {
        List<String> a = new ArrayList<>(List.of(teacherArgs));
        a.addAll(List.of(
                "--tokenizer",
                Fixtures.tinyTokenizer().toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--mode",
                mode,
                "--top-k",
                "5",
                "--max-new-tokens",
                "12",
                "--shard-size",
                "3",
                "--seed",
                "3"));
        return a;
    }

    static String[] local() {
        return new String[] {"--teacher", Fixtures.model("llama").toString()};
    }

    static String[] remote(String url) {
        return new String[] {
            "--teacher-url", url, "--teacher-model", "tiny-llama", "--concurrency", "4", "--max-retries", "1"
        };
    }

    static List<SoftLabelRow> rows(Path runDir) throws IOException {
        List<SoftLabelRow> all = new ArrayList<>();
        for (Path p : parts(runDir)) {
            try (ShardReader r = ShardReader.open(p.toString())) {
                r.forEach(all::add);
            }
        }
        return all;
    }

    static List<Path> parts(Path runDir) throws IOException {
        try (Stream<Path> s = Files.list(runDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .sorted()
                    .toList();
        }
    }

    /**
     * Asserts the same rows: ids and finish reasons exactly, log-probs within {@code tolerance} x max(1, |value|)
     * (0: bit for bit). Returns the largest absolute difference.
     */
    static float assertSameRows(List<SoftLabelRow> expected, List<SoftLabelRow> actual, float tolerance) {
        assertEquals(expected.size(), actual.size());
        float maxDiff = 0;
        for (int i = 0; i < expected.size(); i++) {
            SoftLabelRow e = expected.get(i);
            SoftLabelRow a = actual.get(i);
            String where = "row " + e.sampleId();
            assertEquals(e.sampleId(), a.sampleId());
            assertArrayEquals(e.promptIds(), a.promptIds(), where);
            assertArrayEquals(e.completionIds(), a.completionIds(), where);
            assertArrayEquals(e.topkIds(), a.topkIds(), where);
            assertEquals(e.finishReason(), a.finishReason(), where);
            float[][] pairs = {e.completionLogprobs(), a.completionLogprobs(), e.topkLogprobs(), a.topkLogprobs()};
            for (int p = 0; p < pairs.length; p += 2) {
                assertEquals(pairs[p].length, pairs[p + 1].length, where);
                for (int j = 0; j < pairs[p].length; j++) {
                    float d = Math.abs(pairs[p][j] - pairs[p + 1][j]);
                    maxDiff = Math.max(maxDiff, d);
                    assertTrue(
                            d <= tolerance * Math.max(1, Math.abs(pairs[p][j])),
                            where + ": " + pairs[p][j] + " vs " + pairs[p + 1][j]);
                }
            }
        }
        return maxDiff;
    }

    /**
     * One row per model call on both sides (local --max-batch-tokens 1, remote --concurrency 1), so the server runs
     * exactly the computation of the local run and generated shards must be equal bit for bit; returns the local run.
     */
    Path assertRemoteEqualsLocal(Path corpus, String mode) throws IOException {
        return assertRemoteEqualsLocal(corpus, mode, 0f, null);
    }

    /**
     * As above, log-probs within {@code tolerance} (relative; 0: bit for bit), with {@code --logits logits} instead
     * of {@code --top-k 5} when not null.
     */
    Path assertRemoteEqualsLocal(Path corpus, String mode, float tolerance, String logits) throws IOException {
        Path local = tmp.resolve(mode + "-local");
        Path remote = tmp.resolve(mode + "-remote");
        List<String> localArgs = withLogits(args(corpus, local, mode, local()), logits);
        localArgs.addAll(List.of("--max-batch-tokens", "1"));
        String[] l = Fixtures.generate(localArgs);
        assertEquals("0", l[0], l[2]);
        List<String> remoteArgs = withLogits(args(corpus, remote, mode, remote(server.baseUrl())), logits);
        remoteArgs.set(remoteArgs.indexOf("--concurrency") + 1, "1");
        String[] r = Fixtures.generate(remoteArgs);
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("(run complete)"), r[1]);
        List<SoftLabelRow> localRows = rows(local);
        assertTrue(localRows.size() >= 4);
        float maxDiff = assertSameRows(localRows, rows(remote), tolerance);
        System.out.printf(
                Locale.ROOT,
                "%s through distill serve, one row per call: %d rows, max |log-prob difference| %.3g%n",
                mode,
                localRows.size(),
                maxDiff);
        JsonNode config = new ObjectMapper()
                .readTree(remote.resolve("manifest.json").toFile())
                .get("config");
        assertEquals(server.baseUrl(), config.get("teacher_url").asText());
        assertEquals("tiny-llama", config.get("teacher_model").asText());
        assertFalse(config.has("teacher") || config.has("teacher_sha256") || config.has("dtype"), config.toString());
        try (ShardReader reader = ShardReader.open(parts(remote).get(0).toString())) {
            ShardMetadata meta = reader.metadata();
            assertEquals("tiny-llama", meta.teacher());
            assertEquals(512, meta.vocabSize());
        }
        assertEquals(0, new CommandLine(new ValidateCommand()).execute(remote.toString()));
        return local;
    }

    private static List<String> withLogits(List<String> args, String logits) {
        if (logits != null) {
            int k = args.indexOf("--top-k");
            args.set(k, "--logits");
            args.set(k + 1, logits);
        }
        return args;
    }

    @Test
    void topPThroughTheServerEqualsTheLocalTopPAndMeasuresCoveredMassOnly() throws IOException {
        Path local = assertRemoteEqualsLocal(chatCorpus(), "greedy", 0f, "top-p:0.3:6");
        List<SoftLabelRow> rows = rows(local);
        assertTrue(
                rows.stream()
                        .anyMatch(r -> java.util.Arrays.stream(r.labelSizes())
                                        .distinct()
                                        .count()
                                > 1),
                "positions hold different numbers of entries");
        try (ShardReader reader =
                ShardReader.open(parts(tmp.resolve("greedy-remote")).get(0).toString())) {
            dev.distill.data.Fidelity f = reader.fidelity();
            assertTrue(f.coveredMass().mean() > 0.3 - 1e-6, f.toFooterValue());
            assertEquals(null, f.entropy(), "a server sends no full distribution: entropy is not measured");
            assertEquals(null, f.kl());
        }
        try (ShardReader reader = ShardReader.open(parts(local).get(0).toString())) {
            assertTrue(reader.fidelity().entropy().mean() > 0, reader.fidelity().toFooterValue());
        }
    }

    @Test
    void greedyShardsEqualTheLocalTeachers() throws IOException {
        Path corpus = chatCorpus();
        Path local = assertRemoteEqualsLocal(corpus, "greedy");
        // four requests in flight: the server batches rows of different lengths together, which moves the
        // log-probs by float rounding only
        Path concurrent = tmp.resolve("greedy-concurrent");
        String[] r = Fixtures.generate(args(corpus, concurrent, "greedy", remote(server.baseUrl())));
        assertEquals("0", r[0], r[2]);
        float maxDiff = assertSameRows(rows(local), rows(concurrent), 1e-4f);
        System.out.printf(
                "greedy through distill serve, 4 requests in flight: max |log-prob difference| %.3g%n", maxDiff);
    }

    @Test
    void sampledShardsEqualTheLocalTeachersBecauseRowSeedsTravel() throws IOException {
        assertRemoteEqualsLocal(chatCorpus(), "sample");
    }

    /**
     * Score mode: ids equal, log-probs equal up to float rounding only. vLLM's prompt_logprobs covers every prompt
     * position (the protocol does not say where the response starts), so the server runs the LM head over all of
     * them while the local teacher runs it over the response positions only; BLAS picks its kernel by matrix size,
     * and once the rows differ enough (here two rows with 29-token prompts) the last bits move. 36 prompts of 1 to 29
     * tokens, 12 shards.
     */
    @Test
    void scoreShardsEqualTheLocalTeachersUpToRounding() throws IOException {
        String[] words = {
            "the",
            "prime",
            "rain",
            "fox",
            "number",
            "color",
            "river",
            "seven",
            "blue",
            "quick",
            "apple",
            "sentence",
            "time",
            "count",
            "explain",
            "green"
        };
        java.util.Random random = new java.util.Random(11);
        String[] lines = new String[36];
        for (int i = 0; i < lines.length; i++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0, n = 1 + random.nextInt(14); w < n; w++) {
                text.append(w == 0 ? "" : " ").append(words[random.nextInt(words.length)]);
            }
            String response = words[random.nextInt(words.length)] + " " + words[random.nextInt(words.length)];
            lines[i] = "{\"" + (i % 3 == 0 ? "text" : "prompt") + "\": \"" + text + "\", \"response\": \" " + response
                    + "\"}";
        }
        assertRemoteEqualsLocal(corpus(lines), "score", 1e-5f, null);
    }

    @Test
    void chatTemplateOptionsShapeThePromptIdsSentToTheServer() throws IOException {
        Path template = tmp.resolve("tagged.jinja");
        Files.writeString(template, ChatTemplateOptionsTest.TAGGED_TEMPLATE);
        Path corpus = corpus(
                "{\"prompt\": \"What is a prime number?\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a color.\"}]}");
        List<String> options =
                List.of("--chat-template", template.toString(), "--chat-template-kwargs", "{\"tag\": \"v2\"}");
        Path remote = tmp.resolve("templated-remote");
        List<String> remoteArgs = args(corpus, remote, "greedy", remote(server.baseUrl()));
        remoteArgs.addAll(options);
        remoteArgs.set(remoteArgs.indexOf("--concurrency") + 1, "1");
        String[] r = Fixtures.generate(remoteArgs);
        assertEquals("0", r[0], r[2]);
        List<SoftLabelRow> rows = rows(remote);
        assertArrayEquals(
                tokenizer.encode("[user]\nWhat is a prime number?<|im_end|>\n[assistant v2]\n", false),
                rows.get(0).promptIds());
        assertArrayEquals(
                tokenizer.encode("[user]\nName a color.<|im_end|>\n[assistant v2]\n", false),
                rows.get(1).promptIds());
        // the server continued exactly those ids: the local teacher given the same options writes the same rows
        Path local = tmp.resolve("templated-local");
        List<String> localArgs = args(corpus, local, "greedy", local());
        localArgs.addAll(options);
        localArgs.addAll(List.of("--max-batch-tokens", "1"));
        assertEquals("0", Fixtures.generate(localArgs)[0]);
        assertSameRows(rows(local), rows, 0f);
    }

    @Test
    void aFailingServerNeverLeavesAPartialShardAndARerunCompletesTheRun() throws Exception {
        // a proxy in front of the real server: healthy for the first shard's two requests, then garbage
        AtomicInteger completions = new AtomicInteger();
        AtomicInteger healthyFor = new AtomicInteger(2);
        OkHttpClient forward = new OkHttpClient();
        try (MockWebServer proxy = proxy(
                forward,
                body -> completions.incrementAndGet() > healthyFor.get() ? "{\"choices\": [{\"text\": " : body)) {
            String url = proxy.url("/v1").toString();
            Path corpus = chatCorpus();
            Path out = tmp.resolve("flaky");
            List<String> a = args(corpus, out, "greedy", remote(url));
            a.set(a.indexOf("--shard-size") + 1, "2");
            a.set(a.indexOf("--concurrency") + 1, "1");
            String[] failed = Fixtures.generate(a);
            assertEquals("1", failed[0], failed[2]);
            assertTrue(
                    failed[2].contains(": failed after 2 attempts; last error: malformed JSON in the response:"
                            + " {\"choices\": [{\"text\": "),
                    failed[2]);
            assertEquals(List.of(out.resolve("part-00000.parquet")), parts(out), "only the first shard is committed");
            if (Files.exists(out.resolve("_tmp"))) {
                try (Stream<Path> s = Files.list(out.resolve("_tmp"))) {
                    assertEquals(
                            List.of(),
                            s.filter(p -> p.getFileName().toString().startsWith("part-"))
                                    .toList());
                }
            }
            healthyFor.set(Integer.MAX_VALUE);
            String[] resumed = Fixtures.generate(a);
            assertEquals("0", resumed[0], resumed[2]);
            assertTrue(resumed[1].contains("shards: 4/4 committed (run complete)"), resumed[1]);
            assertEquals(0, new CommandLine(new ValidateCommand()).execute(out.toString()));

            Path clean = tmp.resolve("clean");
            List<String> cleanArgs = new ArrayList<>(a);
            cleanArgs.set(cleanArgs.indexOf("--out") + 1, clean.toString());
            cleanArgs.set(cleanArgs.indexOf("--teacher-url") + 1, server.baseUrl());
            assertEquals("0", Fixtures.generate(cleanArgs)[0]);
            assertSameRows(rows(clean), rows(out), 0f);
        } finally {
            forward.dispatcher().executorService().shutdown();
            forward.connectionPool().evictAll();
        }
    }

    /** A proxy in front of the real server on a loopback port, passing each completion response through {@code rewrite}. */
    static MockWebServer proxy(OkHttpClient forward, java.util.function.UnaryOperator<String> rewrite)
            throws IOException {
        MockWebServer proxy = new MockWebServer();
        proxy.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                Request.Builder b =
                        new Request.Builder().url(server.baseUrl() + r.getPath().substring(3));
                if (r.getMethod().equals("POST")) {
                    b.post(RequestBody.create(r.getBody().readByteArray(), MediaType.get("application/json")));
                }
                try (Response resp = forward.newCall(b.build()).execute()) {
                    String body = resp.body().string();
                    return new MockResponse()
                            .setResponseCode(resp.code())
                            .setBody(r.getPath().endsWith("/completions") ? rewrite.apply(body) : body);
                } catch (IOException e) {
                    return new MockResponse().setResponseCode(502).setBody(e.toString());
                }
            }
        });
        proxy.start(java.net.InetAddress.getLoopbackAddress(), 0);
        return proxy;
    }

    @Test
    void aServerSendingPositiveLogprobsOrIdsOutsideTheVocabularyFailsTheShardNamingRowPositionAndValue()
            throws Exception {
        OkHttpClient forward = new OkHttpClient();
        Path corpus = chatCorpus();
        try (MockWebServer positive = proxy(forward, body -> body.replace("\":-", "\":"));
                MockWebServer outside = proxy(forward, body -> java.util.regex.Pattern.compile("token_id:(\\d+)")
                        .matcher(body)
                        .replaceAll(m -> "token_id:" + (Integer.parseInt(m.group(1)) + 1000)))) {
            for (MockWebServer proxy : List.of(positive, outside)) {
                Path out = tmp.resolve("bad-values-" + proxy.getPort());
                String[] r = Fixtures.generate(
                        args(corpus, out, "greedy", remote(proxy.url("/v1").toString())));
                assertEquals("1", r[0], r[2]);
                String expected =
                        proxy == positive ? "is not a finite log-probability (<= 0)" : "is not in [0, vocab_size 512)";
                assertTrue(
                        r[2].contains("distill generate: shard 0 (part-00000.parquet) row 0 (sample 0-0): ")
                                && r[2].contains(expected),
                        r[2]);
                assertEquals(List.of(), parts(out), "no shard is committed");
            }
        } finally {
            forward.dispatcher().executorService().shutdown();
            forward.connectionPool().evictAll();
        }
    }

    @Test
    void aServerThatIsDownFailsClearlyWithoutShards() throws IOException {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path out = tmp.resolve("down");
        String url = "http://127.0.0.1:" + port + "/v1";
        String[] r = Fixtures.generate(args(chatCorpus(), out, "greedy", remote(url)));
        assertEquals("1", r[0]);
        assertTrue(
                r[2].contains("GET " + url + "/models: failed after 2 attempts; last error: connection refused (is the"
                        + " server running at " + url + "?)"),
                r[2]);
        assertFalse(Files.exists(out), "the run directory is not created");
    }
}
