package dev.distill.pipeline.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.pipeline.TeacherOutput;
import dev.distill.tokenizer.HfTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Writes completion results in vLLM's response format: choices[i].{text, logprobs.{text_offset, tokens,
 * token_logprobs, top_logprobs}, finish_reason, stop_reason, prompt_logprobs}, usage. At each position
 * top_logprobs holds the position's own token first, then the top-k (so k or k + 1 entries, as vLLM);
 * prompt_logprobs entries are {"id": {logprob, rank, decoded_token}} with rank null for a token outside
 * the top-k. Log-probs are clamped at -9999 as vLLM does, so the JSON never holds -Infinity.
 */
final class CompletionResponses {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final float MIN_LOGPROB = -9999f;

    /** One position: its token, that token's log-prob, and the top-k (ids and log-probs, most likely first). */
    record Position(int token, float logprob, int[] topIds, float[] topLogprobs) {}

    /** One choice's results: the prompt's scored positions (null if not scored) and the generation (null if none). */
    record Choice(int[] prompt, TeacherOutput promptScores, TeacherOutput generation) {}

    private final HfTokenizer tokenizer;
    private final String model;

    CompletionResponses(HfTokenizer tokenizer, String model) {
        this.tokenizer = tokenizer;
        this.model = model;
    }

    ObjectNode response(CompletionRequest req, List<Choice> choices) {
        ObjectNode r = F.objectNode();
        r.put("id", "cmpl-" + UUID.randomUUID().toString().replace("-", ""));
        r.put("object", "text_completion");
        r.put("created", System.currentTimeMillis() / 1000);
        r.put("model", model);
        ArrayNode out = r.putArray("choices");
        long promptTokens = 0;
        long completionTokens = 0;
        for (int i = 0; i < choices.size(); i++) {
            Choice c = choices.get(i);
            out.add(choice(req, i, c));
            promptTokens += c.prompt().length;
            completionTokens += c.generation() == null ? 0 : c.generation().completionIds().length;
        }
        ObjectNode usage = r.putObject("usage");
        usage.put("prompt_tokens", promptTokens);
        usage.put("total_tokens", promptTokens + completionTokens);
        usage.put("completion_tokens", completionTokens);
        return r;
    }

    private ObjectNode choice(CompletionRequest req, int index, Choice c) {
        ObjectNode o = F.objectNode();
        o.put("index", index);
        int[] generated = c.generation() == null ? new int[0] : c.generation().completionIds();
        String text = text(generated, req.skipSpecialTokens());
        o.put("text", req.echo() ? text(c.prompt(), req.skipSpecialTokens()) + text : text);
        if (req.logprobs() != null) {
            List<Position> positions = new ArrayList<>();
            if (req.echo()) {
                positions.add(null);
                positions.addAll(promptPositions(c));
            }
            positions.addAll(generatedPositions(c.generation()));
            int[] tokens = req.echo() ? concat(c.prompt(), generated) : generated;
            o.set("logprobs", logprobs(tokens, positions, req.logprobs(), req.tokensAsIds()));
        } else {
            o.putNull("logprobs");
        }
        o.put(
                "finish_reason",
                c.generation() == null ? "length" : c.generation().finishReason());
        o.putNull("stop_reason");
        if (req.promptLogprobs() != null) {
            ArrayNode pl = o.putArray("prompt_logprobs");
            pl.addNull();
            for (Position p : promptPositions(c)) {
                pl.add(promptEntry(p, req.promptLogprobs()));
            }
        } else {
            o.putNull("prompt_logprobs");
        }
        return o;
    }

    /** Positions 1.. of the prompt (position 0 has no prediction). */
    private static List<Position> promptPositions(Choice c) {
        List<Position> out = new ArrayList<>();
        TeacherOutput s = c.promptScores();
        if (s == null) {
            return out;
        }
        int k = s.completionIds().length == 0 ? 0 : s.topkIds().length / s.completionIds().length;
        for (int t = 0; t < s.completionIds().length; t++) {
            out.add(position(s, t, k));
        }
        return out;
    }

    private static List<Position> generatedPositions(TeacherOutput g) {
        List<Position> out = new ArrayList<>();
        if (g == null) {
            return out;
        }
        int k = g.completionIds().length == 0 ? 0 : g.topkIds().length / g.completionIds().length;
        for (int t = 0; t < g.completionIds().length; t++) {
            out.add(position(g, t, k));
        }
        return out;
    }

    private static Position position(TeacherOutput o, int t, int k) {
        int[] ids = new int[k];
        float[] lps = new float[k];
        System.arraycopy(o.topkIds(), t * k, ids, 0, k);
        System.arraycopy(o.topkLogprobs(), t * k, lps, 0, k);
        return new Position(o.completionIds()[t], o.completionLogprobs()[t], ids, lps);
    }

    private ObjectNode logprobs(int[] tokens, List<Position> positions, int k, boolean asIds) {
        ObjectNode lp = F.objectNode();
        ArrayNode offsets = lp.putArray("text_offset");
        ArrayNode tokenLogprobs = lp.putArray("token_logprobs");
        ArrayNode tokenStrings = lp.putArray("tokens");
        ArrayNode top = lp.putArray("top_logprobs");
        int offset = 0;
        for (int t = 0; t < tokens.length; t++) {
            String token = token(tokens[t], asIds);
            Position p = positions.get(t);
            offsets.add(offset);
            offset += token.length();
            tokenStrings.add(token);
            if (p == null) {
                tokenLogprobs.addNull();
                top.addNull();
                continue;
            }
            tokenLogprobs.add(clamp(p.logprob()));
            ObjectNode dict = top.addObject();
            dict.put(token, clamp(p.logprob()));
            for (int j = 0; j < p.topIds().length && dict.size() < k + 1; j++) {
                String key = token(p.topIds()[j], asIds);
                if (!dict.has(key)) {
                    dict.put(key, clamp(p.topLogprobs()[j]));
                }
            }
        }
        return lp;
    }

    private ObjectNode promptEntry(Position p, int k) {
        ObjectNode dict = F.objectNode();
        Integer ownRank = null;
        for (int j = 0; j < p.topIds().length; j++) {
            if (p.topIds()[j] == p.token()) {
                ownRank = j + 1;
            }
        }
        dict.set(Integer.toString(p.token()), logprob(p.logprob(), ownRank, p.token()));
        for (int j = 0; j < Math.min(k, p.topIds().length); j++) {
            String key = Integer.toString(p.topIds()[j]);
            if (!dict.has(key)) {
                dict.set(key, logprob(p.topLogprobs()[j], j + 1, p.topIds()[j]));
            }
        }
        return dict;
    }

    private ObjectNode logprob(float value, Integer rank, int id) {
        ObjectNode o = F.objectNode();
        o.put("logprob", clamp(value));
        if (rank == null) {
            o.putNull("rank");
        } else {
            o.put("rank", rank);
        }
        o.put("decoded_token", tokenizer == null ? "token_id:" + id : tokenizer.decode(new int[] {id}, false));
        return o;
    }

    private String token(int id, boolean asIds) {
        return asIds || tokenizer == null ? "token_id:" + id : tokenizer.decode(new int[] {id}, false);
    }

    private String text(int[] ids, boolean skipSpecial) {
        return tokenizer == null || ids.length == 0 ? "" : tokenizer.decode(ids, skipSpecial);
    }

    private static float clamp(float logprob) {
        return Float.isNaN(logprob) ? logprob : Math.max(logprob, MIN_LOGPROB);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = new int[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
