package dev.distill.pipeline.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.pipeline.WorkItem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a /v1/completions response in vLLM's format into a {@link TeacherOutput}, checking every field it
 * uses. Token ids come only from "token_id:N" strings (return_tokens_as_token_ids) or from the integer
 * keys of prompt_logprobs; a token string is never mapped back to an id. The top-k at a position is the
 * k highest log-probs among the entries given (vLLM adds the chosen token to the top-k, so there may
 * be k + 1), most likely first, ties by id.
 */
final class CompletionParser {
    private static final Pattern TOKEN_ID = Pattern.compile("token_id:(\\d+)");

    private CompletionParser() {}

    /** A generation response: choices[0].logprobs.{tokens, token_logprobs, top_logprobs} and finish_reason. */
    static TeacherOutput generation(JsonNode body, WorkItem item, int k) {
        JsonNode choice = onlyChoice(body);
        String finish = JsonPaths.text(choice.get("finish_reason"), "choices[0].finish_reason");
        if (!finish.equals("stop") && !finish.equals("length")) {
            throw new ResponseFormatException(
                    "choices[0].finish_reason", "is '" + finish + "'; expected stop or length");
        }
        JsonNode logprobs = JsonPaths.field(choice, "logprobs", "choices[0].logprobs");
        JsonNode tokens = JsonPaths.array(logprobs, "tokens", "choices[0].logprobs.tokens");
        JsonNode tokenLogprobs = JsonPaths.array(logprobs, "token_logprobs", "choices[0].logprobs.token_logprobs");
        JsonNode top = JsonPaths.array(logprobs, "top_logprobs", "choices[0].logprobs.top_logprobs");
        int n = tokens.size();
        if (tokenLogprobs.size() != n || top.size() != n) {
            throw new ResponseFormatException(
                    "choices[0].logprobs",
                    "has " + n + " tokens but " + tokenLogprobs.size() + " token_logprobs and " + top.size()
                            + " top_logprobs");
        }
        if (n > item.maxNewTokens()) {
            throw new ResponseFormatException(
                    "choices[0].logprobs.tokens", "has " + n + " tokens; max_tokens was " + item.maxNewTokens());
        }
        int[] ids = new int[n];
        float[] logp = new float[n];
        int[] topIds = new int[n * k];
        float[] topLogp = new float[n * k];
        for (int t = 0; t < n; t++) {
            ids[t] = tokenId(tokens.get(t), "choices[0].logprobs.tokens[" + t + "]");
            logp[t] = JsonPaths.number(tokenLogprobs.get(t), "choices[0].logprobs.token_logprobs[" + t + "]");
            String path = "choices[0].logprobs.top_logprobs[" + t + "]";
            JsonNode dict = JsonPaths.object(top.get(t), path);
            List<Entry> entries = new ArrayList<>(dict.size());
            for (Iterator<Map.Entry<String, JsonNode>> it = dict.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = path + "[\"" + e.getKey() + "\"]";
                entries.add(new Entry(tokenId(e.getKey(), key), JsonPaths.number(e.getValue(), key)));
            }
            takeTopK(entries, k, path, topIds, topLogp, t);
        }
        return new TeacherOutput(item, ids, logp, topIds, topLogp, finish);
    }

    /** A scoring response: choices[0].prompt_logprobs over prompt + response, one {id: {logprob}} per position. */
    static TeacherOutput score(JsonNode body, WorkItem item, int k) {
        JsonNode choice = onlyChoice(body);
        JsonNode positions = JsonPaths.array(choice, "prompt_logprobs", "choices[0].prompt_logprobs");
        int p = item.promptIds().length;
        int[] response = item.responseIds();
        if (positions.size() != p + response.length) {
            throw new ResponseFormatException(
                    "choices[0].prompt_logprobs",
                    "has " + positions.size() + " positions; the prompt sent has " + (p + response.length) + " tokens");
        }
        float[] logp = new float[response.length];
        int[] topIds = new int[response.length * k];
        float[] topLogp = new float[response.length * k];
        for (int t = 0; t < response.length; t++) {
            String path = "choices[0].prompt_logprobs[" + (p + t) + "]";
            JsonNode dict = JsonPaths.object(positions.get(p + t), path);
            List<Entry> entries = new ArrayList<>(dict.size());
            Float own = null;
            for (Iterator<Map.Entry<String, JsonNode>> it = dict.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = path + "[\"" + e.getKey() + "\"]";
                int id = intKey(e.getKey(), key);
                JsonNode v = e.getValue();
                float lp = JsonPaths.number(
                        v != null && v.isObject() ? v.get("logprob") : v,
                        v != null && v.isObject() ? key + ".logprob" : key);
                entries.add(new Entry(id, lp));
                if (id == response[t]) {
                    own = lp;
                }
            }
            if (own == null) {
                throw new ResponseFormatException(path, "lacks the scored token's own entry (id " + response[t] + ")");
            }
            logp[t] = own;
            takeTopK(entries, k, path, topIds, topLogp, t);
        }
        return new TeacherOutput(item, response.clone(), logp, topIds, topLogp, "scored");
    }

    private static JsonNode onlyChoice(JsonNode body) {
        JsonNode choices = JsonPaths.array(body, "choices", "choices");
        if (choices.size() != 1) {
            throw new ResponseFormatException("choices", "has " + choices.size() + " entries; one prompt was sent");
        }
        return JsonPaths.object(choices.get(0), "choices[0]");
    }

    private static int tokenId(JsonNode node, String path) {
        return tokenId(JsonPaths.text(node, path), path);
    }

    private static int tokenId(String token, String path) {
        Matcher m = TOKEN_ID.matcher(token);
        if (!m.matches()) {
            throw new ResponseFormatException(
                    path,
                    "is '" + token + "', not 'token_id:<id>' (the server ignored"
                            + " return_tokens_as_token_ids; vLLM needs a version that supports it)");
        }
        return intKey(m.group(1), path);
    }

    private static int intKey(String s, String path) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new ResponseFormatException(path, "is not a token id");
        }
    }

    private static void takeTopK(List<Entry> entries, int k, String path, int[] ids, float[] logp, int position) {
        if (entries.size() < k) {
            throw new ResponseFormatException(
                    path,
                    "has " + entries.size() + " log-probs; asked for the top " + k + " (vLLM: raise --max-logprobs)");
        }
        entries.sort(Comparator.comparingDouble((Entry e) -> -e.logprob).thenComparingInt(e -> e.id));
        for (int j = 0; j < k; j++) {
            ids[position * k + j] = entries.get(j).id;
            logp[position * k + j] = entries.get(j).logprob;
        }
    }

    private record Entry(int id, float logprob) {}
}
