package dev.distill.pipeline.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.pipeline.Fixtures;
import dev.distill.pipeline.GenerationParams;
import dev.distill.pipeline.LocalTeacher;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.TokenSampler;
import dev.distill.pipeline.WorkItem;
import dev.distill.tokenizer.HfTokenizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** `distill serve`'s protocol subset on the tiny llama fixture, checked against the teacher called directly. */
class CompletionServerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final int[] EOS = {2, 7};
    static LocalTeacher teacher;
    static HfTokenizer tokenizer;
    static CompletionServer server;

    @BeforeAll
    static void start() throws Exception {
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

    static HttpResponse<String> call(CompletionServer s, String method, String path, String body, String auth)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl().replace("/v1", "") + path))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode post(String body) throws Exception {
        HttpResponse<String> r = call(server, "POST", "/v1/completions", body, null);
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    /** {status, error.message, error.param} of a refused request. */
    static String[] refused(String body) throws Exception {
        HttpResponse<String> r = call(server, "POST", "/v1/completions", body, null);
        JsonNode e = JSON.readTree(r.body()).get("error");
        return new String[] {
            String.valueOf(r.statusCode()),
            e.get("message").asText(),
            e.get("param").asText()
        };
    }

    @Test
    void modelsReportsContextVocabularyAndStopIds() throws Exception {
        HttpResponse<String> r = call(server, "GET", "/v1/models", null, null);
        assertEquals(200, r.statusCode());
        JsonNode m = JSON.readTree(r.body()).get("data").get(0);
        assertEquals("tiny-llama", m.get("id").asText());
        assertEquals(256, m.get("max_model_len").asInt());
        assertEquals(512, m.get("vocab_size").asInt());
        assertEquals("[2,7]", m.get("eos_token_ids").toString());
        assertEquals(200, call(server, "GET", "/health", null, null).statusCode());
    }

    @Test
    void greedyCompletionsEqualTheTeacherInVllmFormat() throws Exception {
        int[][] prompts = {{1, 40, 41, 42, 43}, {1, 50, 51}};
        JsonNode r = post("{\"model\":\"tiny-llama\",\"prompt\":[[1,40,41,42,43],[1,50,51]],\"max_tokens\":6,"
                + "\"temperature\":0,\"logprobs\":3,\"return_tokens_as_token_ids\":true,\"seed\":5}");
        assertEquals("text_completion", r.get("object").asText());
        List<WorkItem> items =
                List.of(new WorkItem(0, 0, prompts[0], null, 6, 5), new WorkItem(1, 0, prompts[1], null, 6, 5));
        List<TeacherOutput> expected =
                teacher.generate(items, new GenerationParams(3, new TokenSampler(true, 1f, 1f), EOS));
        long completionTokens = 0;
        for (int b = 0; b < 2; b++) {
            JsonNode c = r.get("choices").get(b);
            TeacherOutput e = expected.get(b);
            assertEquals(b, c.get("index").asInt());
            assertEquals(e.finishReason(), c.get("finish_reason").asText());
            assertEquals(
                    tokenizer.decode(e.completionIds(), true), c.get("text").asText());
            JsonNode lp = c.get("logprobs");
            int n = e.completionIds().length;
            completionTokens += n;
            assertEquals(n, lp.get("tokens").size());
            for (int t = 0; t < n; t++) {
                assertEquals(
                        "token_id:" + e.completionIds()[t],
                        lp.get("tokens").get(t).asText());
                assertEquals(
                        e.completionLogprobs()[t],
                        lp.get("token_logprobs").get(t).floatValue(),
                        1e-5f);
                JsonNode top = lp.get("top_logprobs").get(t);
                // the position's own token first, then the top-3: k or k + 1 entries
                assertEquals(
                        "token_id:" + e.completionIds()[t], top.fieldNames().next());
                for (int j = 0; j < 3; j++) {
                    assertEquals(
                            e.topkLogprobs()[t * 3 + j],
                            top.get("token_id:" + e.topkIds()[t * 3 + j]).floatValue(),
                            1e-5f);
                }
                assertTrue(top.size() == 3 || top.size() == 4);
            }
        }
        assertEquals(8, r.get("usage").get("prompt_tokens").asInt());
        assertEquals(completionTokens, r.get("usage").get("completion_tokens").asLong());
    }

    @Test
    void echoWithPromptLogprobsScoresThePromptLikeVllm() throws Exception {
        int[] prompt = {1, 60, 61, 62, 2};
        JsonNode c = post("{\"prompt\":[1,60,61,62,2],\"max_tokens\":0,\"echo\":true,\"logprobs\":2,"
                        + "\"prompt_logprobs\":2,\"return_tokens_as_token_ids\":true}")
                .get("choices")
                .get(0);
        TeacherOutput e = teacher.score(List.of(new WorkItem(0, 0, new int[] {1}, new int[] {60, 61, 62, 2}, 0, 0)), 2)
                .get(0);
        JsonNode pl = c.get("prompt_logprobs");
        assertEquals(5, pl.size());
        assertTrue(pl.get(0).isNull());
        JsonNode lp = c.get("logprobs");
        assertTrue(lp.get("token_logprobs").get(0).isNull());
        for (int t = 1; t < 5; t++) {
            JsonNode own = pl.get(t).get(Integer.toString(prompt[t]));
            assertEquals(e.completionLogprobs()[t - 1], own.get("logprob").floatValue(), 1e-5f);
            assertEquals(
                    e.completionLogprobs()[t - 1],
                    lp.get("token_logprobs").get(t).floatValue(),
                    1e-5f);
            assertEquals("token_id:" + prompt[t], lp.get("tokens").get(t).asText());
            for (int j = 0; j < 2; j++) {
                JsonNode top = pl.get(t).get(Integer.toString(e.topkIds()[(t - 1) * 2 + j]));
                assertEquals(
                        e.topkLogprobs()[(t - 1) * 2 + j], top.get("logprob").floatValue(), 1e-5f);
                assertEquals(j + 1, top.get("rank").asInt());
            }
            boolean inTop = e.topkIds()[(t - 1) * 2] == prompt[t] || e.topkIds()[(t - 1) * 2 + 1] == prompt[t];
            assertEquals(inTop ? 2 : 3, pl.get(t).size());
            assertTrue(inTop || own.get("rank").isNull(), "rank of a token outside the top-k is null");
        }
        assertEquals("length", c.get("finish_reason").asText());
        assertEquals(tokenizer.decode(prompt, true), c.get("text").asText());
    }

    @Test
    void textPromptsAreTokenizedAndTokensDecoded() throws Exception {
        JsonNode c = post("{\"prompt\":\"Hello there\",\"max_tokens\":3,\"temperature\":0,\"logprobs\":1}")
                .get("choices")
                .get(0);
        int[] ids = tokenizer.encode("Hello there", true);
        TeacherOutput e = teacher.generate(
                        List.of(new WorkItem(0, 0, ids, null, 3, 0)),
                        new GenerationParams(1, new TokenSampler(true, 1f, 1f), EOS))
                .get(0);
        assertEquals(tokenizer.decode(e.completionIds(), true), c.get("text").asText());
        assertEquals(
                tokenizer.decode(new int[] {e.completionIds()[0]}, false),
                c.get("logprobs").get("tokens").get(0).asText());
    }

    @Test
    void unsupportedOrInvalidRequestsAreRefusedNamingTheParameter() throws Exception {
        assertArrayEquals(
                new String[] {"400", "n=2 is not supported by distill serve (only 1)", "n"},
                refused("{\"prompt\":[1,2],\"n\":2}"));
        assertArrayEquals(
                new String[] {"400", "stream is not supported by distill serve", "stream"},
                refused("{\"prompt\":[1,2],\"stream\":true}"));
        assertArrayEquals(
                new String[] {"404", "The model `gpt-4` does not exist.", "model"},
                refused("{\"model\":\"gpt-4\",\"prompt\":[1,2]}"));
        assertArrayEquals(
                new String[] {"400", "prompt[1]: 512 is not a token id in [0, 512)", "prompt"},
                refused("{\"prompt\":[1,512]}"));
        assertArrayEquals(
                new String[] {
                    "400",
                    "This model's maximum context length is 256 tokens. However, you"
                            + " requested 302 tokens (2 in the messages, 300 in the completion). Please reduce the length of the"
                            + " messages or completion.",
                    "prompt"
                },
                refused("{\"prompt\":[1,2],\"max_tokens\":300}"));
        assertEquals("400", refused("{\"prompt\": [1,")[0]);
        assertEquals(
                404, call(server, "GET", "/v1/chat/completions", null, null).statusCode());
        assertEquals(405, call(server, "GET", "/v1/completions", null, null).statusCode());
    }

    @Test
    void anApiKeyIsRequiredWhenConfigured() throws Exception {
        try (CompletionServer locked = CompletionServer.start(
                teacher, null, new CompletionServer.Settings("tiny-llama", "127.0.0.1", 0, 4096, "k-123"))) {
            assertEquals(401, call(locked, "GET", "/v1/models", null, null).statusCode());
            assertEquals(
                    401, call(locked, "GET", "/v1/models", null, "Bearer wrong").statusCode());
            assertEquals(
                    200, call(locked, "GET", "/v1/models", null, "Bearer k-123").statusCode());
        }
    }

    @Test
    void queuedRequestsThatCanShareABatchRunAsOne() throws Exception {
        try (BatchWorker worker = new BatchWorker(teacher, 4096)) {
            BatchWorker.Key greedy = new BatchWorker.Key(false, 2, true, 1f, 1f, List.of(2, 7));
            BatchWorker.Key scoring = new BatchWorker.Key(true, 2, true, 1f, 1f, List.of());
            List<WorkItem> items = new ArrayList<>();
            List<CompletableFuture<TeacherOutput>> gen = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                items.add(new WorkItem(i, 0, new int[] {1, 30 + i, 31 + i}, null, 4, i));
                gen.add(worker.submit(greedy, items.get(i)));
            }
            CompletableFuture<TeacherOutput> score =
                    worker.submit(scoring, new WorkItem(9, 0, new int[] {1}, new int[] {5, 6}, 0, 0));
            worker.start();
            List<TeacherOutput> direct =
                    teacher.generate(items, new GenerationParams(2, new TokenSampler(true, 1f, 1f), EOS));
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(
                        direct.get(i).completionIds(), gen.get(i).get().completionIds());
                assertArrayEquals(direct.get(i).topkIds(), gen.get(i).get().topkIds());
            }
            assertArrayEquals(new int[] {5, 6}, score.get().completionIds());
            assertEquals(2, worker.batchesRun(), "four generation rows in one batch, then the scoring row");
        }
    }
}
