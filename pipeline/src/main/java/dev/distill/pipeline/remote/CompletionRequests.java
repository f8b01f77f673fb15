package dev.distill.pipeline.remote;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.pipeline.WorkItem;

/**
 * Bodies of POST /v1/completions for one work item, prompts sent as token ids. Every sampling knob a
 * server may default from the model's generation_config (top_k, min_p, penalties) is set to "off", so
 * the server samples exactly as {@code --temperature}/{@code --top-p} say.
 */
final class CompletionRequests {
    private CompletionRequests() {}

    /** Generation: top-k log-probs of every generated token, tokens as "token_id:N", the row's own seed. */
    static ObjectNode generate(String model, WorkItem item, int k, RemoteSampling sampling, int[] stopIds) {
        ObjectNode b = base(model, item.promptIds());
        b.put("max_tokens", item.maxNewTokens());
        b.put("temperature", sampling.greedy() ? 0f : sampling.temperature());
        b.put("top_p", sampling.greedy() ? 1f : sampling.topP());
        b.put("top_k", -1);
        b.put("min_p", 0);
        b.put("repetition_penalty", 1);
        b.put("frequency_penalty", 0);
        b.put("presence_penalty", 0);
        b.put("seed", item.rowSeed());
        b.put("logprobs", k);
        b.put("return_tokens_as_token_ids", true);
        ArrayNode stop = b.putArray("stop_token_ids");
        for (int id : stopIds) {
            stop.add(id);
        }
        b.put("skip_special_tokens", false);
        return b;
    }

    /** Scoring: prompt + response echoed with the top-k of every position (vLLM's prompt_logprobs), nothing generated. */
    static ObjectNode score(String model, WorkItem item, int k) {
        int[] p = item.promptIds();
        int[] r = item.responseIds();
        int[] all = new int[p.length + r.length];
        System.arraycopy(p, 0, all, 0, p.length);
        System.arraycopy(r, 0, all, p.length, r.length);
        ObjectNode b = base(model, all);
        b.put("max_tokens", 0);
        b.put("echo", true);
        b.put("prompt_logprobs", k);
        b.put("temperature", 0f);
        b.put("return_tokens_as_token_ids", true);
        return b;
    }

    private static ObjectNode base(String model, int[] prompt) {
        ObjectNode b = JsonNodeFactory.instance.objectNode();
        b.put("model", model);
        ArrayNode ids = b.putArray("prompt");
        for (int id : prompt) {
            ids.add(id);
        }
        b.put("n", 1);
        b.put("stream", false);
        return b;
    }
}
