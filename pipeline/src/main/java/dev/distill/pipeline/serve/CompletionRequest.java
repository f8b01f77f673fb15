package dev.distill.pipeline.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.distill.tokenizer.HfTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated POST /v1/completions body: the subset of vLLM's parameters `distill serve` implements.
 * Parameters it does not implement are refused when they ask for anything but their neutral value, so a
 * client never silently gets something other than it asked for.
 */
record CompletionRequest(
        List<int[]> prompts,
        int maxTokens,
        float temperature,
        float topP,
        Long seed,
        Integer logprobs,
        boolean echo,
        Integer promptLogprobs,
        boolean tokensAsIds,
        boolean skipSpecialTokens,
        int[] stopTokenIds) {

    /** Below this temperature sampling is greedy (vLLM's rule). */
    static final float GREEDY_BELOW = 1e-5f;

    /** Top-k of the prompt positions to compute: prompt_logprobs, or logprobs when echoing (as vLLM does). */
    Integer promptTopK() {
        if (promptLogprobs != null) {
            return echo && logprobs != null ? Math.max(promptLogprobs, logprobs) : promptLogprobs;
        }
        return echo && logprobs != null ? logprobs : null;
    }

    boolean greedy() {
        return temperature < GREEDY_BELOW;
    }

    /**
     * Parses and checks a request body.
     *
     * @param maxLogprobs the most logprobs / prompt_logprobs allowed (vLLM's --max-logprobs)
     * @param maxPrompts the most prompts in one request
     * @param tokenizer encodes text prompts; null when the server has none (then prompts must be token ids)
     * @throws BadRequestException naming the parameter: 404 for another model, 400 for everything else
     */
    static CompletionRequest parse(
            JsonNode body,
            String servedModel,
            int vocabSize,
            int contextLength,
            int maxLogprobs,
            int maxPrompts,
            HfTokenizer tokenizer) {
        if (body == null || !body.isObject()) {
            throw new BadRequestException(null, "the request body must be a JSON object");
        }
        JsonNode model = body.get("model");
        if (model != null && !model.isNull() && !model.asText().equals(servedModel)) {
            throw new BadRequestException(404, "model", "The model `" + model.asText() + "` does not exist.");
        }
        List<int[]> prompts = prompts(body.get("prompt"), vocabSize, maxPrompts, tokenizer);
        int maxTokens = intParam(body, "max_tokens", 16, 0);
        float temperature = floatParam(body, "temperature", 1f);
        if (temperature < 0) {
            throw new BadRequestException("temperature", "temperature must be >= 0, got " + temperature);
        }
        float topP = floatParam(body, "top_p", 1f);
        if (!(topP > 0 && topP <= 1)) {
            throw new BadRequestException("top_p", "top_p must be in (0, 1], got " + topP);
        }
        Long seed = null;
        if (present(body, "seed")) {
            if (!body.get("seed").canConvertToLong()) {
                throw new BadRequestException("seed", "seed must be a 64-bit integer, got " + body.get("seed"));
            }
            seed = body.get("seed").asLong();
        }
        Integer logprobs = present(body, "logprobs") ? intParam(body, "logprobs", 0, 0) : null;
        Integer promptLogprobs = present(body, "prompt_logprobs") ? intParam(body, "prompt_logprobs", 0, 0) : null;
        // vLLM's messages; the bound keeps one request's top-k tables (positions x k) small
        if (logprobs != null && logprobs > maxLogprobs) {
            throw new BadRequestException(
                    "logprobs",
                    "Requested sample logprobs of " + logprobs + ", which is greater than max allowed: " + maxLogprobs
                            + " (distill serve --max-logprobs)");
        }
        if (promptLogprobs != null && promptLogprobs > maxLogprobs) {
            throw new BadRequestException(
                    "prompt_logprobs",
                    "Requested prompt logprobs of " + promptLogprobs + ", which is greater than max allowed: "
                            + maxLogprobs + " (distill serve --max-logprobs)");
        }
        for (int b = 0; b < prompts.size(); b++) {
            int n = prompts.get(b).length;
            if (n + maxTokens > contextLength) {
                throw new BadRequestException(
                        prompts.size() == 1 ? "prompt" : "prompt[" + b + "]",
                        "This model's maximum context length is " + contextLength + " tokens. However, you requested "
                                + (n + maxTokens) + " tokens (" + n + " in the messages, " + maxTokens
                                + " in the completion). Please reduce the length of the messages or completion.");
            }
        }
        refuseUnsupported(body);
        return new CompletionRequest(
                prompts,
                maxTokens,
                temperature,
                topP,
                seed,
                logprobs,
                boolParam(body, "echo", false),
                promptLogprobs,
                boolParam(body, "return_tokens_as_token_ids", false),
                boolParam(body, "skip_special_tokens", true),
                ids(body.get("stop_token_ids"), "stop_token_ids", vocabSize));
    }

    private static List<int[]> prompts(JsonNode p, int vocabSize, int maxPrompts, HfTokenizer tokenizer) {
        if (p == null || p.isNull()) {
            throw new BadRequestException("prompt", "prompt is required");
        }
        if (p.isArray() && p.size() > maxPrompts && !p.get(0).isNumber()) {
            throw new BadRequestException(
                    "prompt",
                    "a request may hold at most " + maxPrompts + " prompts, got " + p.size()
                            + "; send them in several requests");
        }
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(encode(p.asText(), "prompt", tokenizer));
        } else if (p.isArray() && p.size() > 0 && p.get(0).isNumber()) {
            out.add(ids(p, "prompt", vocabSize));
        } else if (p.isArray() && p.size() > 0) {
            for (int i = 0; i < p.size(); i++) {
                JsonNode e = p.get(i);
                out.add(
                        e.isTextual()
                                ? encode(e.asText(), "prompt[" + i + "]", tokenizer)
                                : ids(e, "prompt[" + i + "]", vocabSize));
            }
        } else {
            throw new BadRequestException(
                    "prompt",
                    "prompt must be a string, a list of token ids, or a list of either;" + " got " + abbreviate(p));
        }
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i).length == 0) {
                throw new BadRequestException(
                        "prompt", (out.size() == 1 ? "prompt" : "prompt[" + i + "]") + " is empty");
            }
        }
        return out;
    }

    private static int[] encode(String text, String param, HfTokenizer tokenizer) {
        if (tokenizer == null) {
            throw new BadRequestException(
                    param,
                    param + " is text but this server has no tokenizer (start it with"
                            + " --tokenizer DIR, or send token ids)");
        }
        return tokenizer.encode(text, true);
    }

    private static int[] ids(JsonNode list, String param, int vocabSize) {
        if (list == null || list.isNull()) {
            return new int[0];
        }
        if (!list.isArray()) {
            throw new BadRequestException(param, param + " must be a list of token ids, got " + abbreviate(list));
        }
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode v = list.get(i);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0 || v.asInt() >= vocabSize) {
                throw new BadRequestException(
                        param, param + "[" + i + "]: " + v + " is not a token id in [0, " + vocabSize + ")");
            }
            ids[i] = v.asInt();
        }
        return ids;
    }

    /** Parameters this server does not implement, accepted only at their neutral values. */
    private static void refuseUnsupported(JsonNode body) {
        neutral(body, "n", 1);
        neutral(body, "best_of", 1);
        neutral(body, "top_k", -1, 0);
        neutral(body, "min_p", 0);
        neutral(body, "repetition_penalty", 1);
        neutral(body, "frequency_penalty", 0);
        neutral(body, "presence_penalty", 0);
        neutral(body, "min_tokens", 0);
        for (String flag : new String[] {"stream", "use_beam_search", "ignore_eos"}) {
            if (present(body, flag) && body.get(flag).asBoolean(true)) {
                throw new BadRequestException(flag, flag + " is not supported by distill serve");
            }
        }
        for (String field : new String[] {
            "stop",
            "logit_bias",
            "suffix",
            "allowed_token_ids",
            "bad_words",
            "response_format",
            "structured_outputs",
            "prompt_embeds",
            "logprob_token_ids"
        }) {
            JsonNode v = body.get(field);
            if (v != null
                    && !v.isNull()
                    && !(v.isContainerNode() && v.isEmpty())
                    && !(v.isTextual() && v.asText().isEmpty())) {
                throw new BadRequestException(
                        field,
                        field + " is not supported by distill serve (stop on token ids with" + " stop_token_ids)");
            }
        }
    }

    private static void neutral(JsonNode body, String field, double... allowed) {
        if (!present(body, field)) {
            return;
        }
        JsonNode v = body.get(field);
        for (double a : allowed) {
            if (v.isNumber() && v.asDouble() == a) {
                return;
            }
        }
        throw new BadRequestException(
                field,
                field + "=" + v + " is not supported by distill serve (only "
                        + (allowed.length == 1 ? fmt(allowed[0]) : fmt(allowed[0]) + " or " + fmt(allowed[1])) + ")");
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    private static boolean present(JsonNode body, String field) {
        return body.has(field) && !body.get(field).isNull();
    }

    private static int intParam(JsonNode body, String field, int dflt, int min) {
        if (!present(body, field)) {
            return dflt;
        }
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
            throw new BadRequestException(field, field + " must be an integer >= " + min + ", got " + v);
        }
        return v.asInt();
    }

    private static float floatParam(JsonNode body, String field, float dflt) {
        if (!present(body, field)) {
            return dflt;
        }
        JsonNode v = body.get(field);
        if (!v.isNumber()) {
            throw new BadRequestException(field, field + " must be a number, got " + v);
        }
        return v.floatValue();
    }

    private static boolean boolParam(JsonNode body, String field, boolean dflt) {
        if (!present(body, field)) {
            return dflt;
        }
        JsonNode v = body.get(field);
        if (!v.isBoolean()) {
            throw new BadRequestException(field, field + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
