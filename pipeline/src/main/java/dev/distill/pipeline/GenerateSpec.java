package dev.distill.pipeline;

import dev.distill.cli.UsageException;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.pipeline.remote.RemoteOptions;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything `distill generate` was asked to do, validated (a bad value is a {@link UsageException}). The teacher is either a local model directory
 * ({@code teacher}) or a server ({@code remote}, with {@code teacher} null). {@code chatTemplateFile} (null: the
 * tokenizer's own template) and {@code chatTemplateKwargs} (template values, empty when none) shape every chat prompt.
 * {@code responsesFrom} (score mode only, instead of {@code prompts}) is another run directory whose rows are scored
 * with their own prompt and completion ids.
 * {@code logits} is what is stored of each position's distribution, {@code encoding} how.
 * {@code storeSpans} adds the text columns and teacher_vocab.json for cross-tokenizer students.
 */
public record GenerateSpec(
        Path teacher,
        Path tokenizer,
        Path prompts,
        String out,
        Mode mode,
        LogitsSpec logits,
        LabelEncoding encoding,
        int maxNewTokens,
        float temperature,
        float topP,
        int samplesPerPrompt,
        long seed,
        int shardSize,
        Integer maxBatchTokens,
        String dtype,
        String device,
        boolean chatTemplate,
        Path chatTemplateFile,
        Map<String, Object> chatTemplateKwargs,
        String promptField,
        String responseField,
        int numWorkers,
        int workerIndex,
        boolean skipInvalid,
        boolean verify,
        boolean storeSpans,
        RemoteOptions remote,
        String responsesFrom) {

    public GenerateSpec {
        require(teacher != null || remote != null, "give the teacher: --teacher DIR, or --teacher-url URL");
        require(teacher == null || remote == null, "--teacher and --teacher-url exclude each other: give one teacher");
        require(
                tokenizer != null,
                "--teacher-url needs --tokenizer DIR (the teacher's tokenizer, to template and"
                        + " tokenize prompts locally)");
        require(logits != null && encoding != null, "--logits and --encoding are required");
        require(remote == null || !logits.sampled(), "--logits " + logits + ": " + SAMPLE_NEEDS_LOCAL);
        require(maxNewTokens >= 1, "--max-new-tokens must be >= 1, got " + maxNewTokens);
        require(samplesPerPrompt >= 1, "--samples-per-prompt must be >= 1, got " + samplesPerPrompt);
        require(shardSize >= 1, "--shard-size must be >= 1, got " + shardSize);
        require(
                maxBatchTokens == null || maxBatchTokens >= 1,
                "--max-batch-tokens must be >= 1, got " + maxBatchTokens);
        require(numWorkers >= 1, "--num-workers must be >= 1, got " + numWorkers);
        require(
                workerIndex >= 0 && workerIndex < numWorkers,
                "--worker-index must be in [0, " + numWorkers + "), got " + workerIndex);
        require(mode != Mode.SAMPLE || temperature > 0, "--temperature must be > 0 in sample mode, got " + temperature);
        require(topP > 0 && topP <= 1, "--top-p must be in (0, 1], got " + topP);
        require(mode != Mode.SCORE || samplesPerPrompt == 1, "--samples-per-prompt must be 1 in score mode");
        require(chatTemplateFile == null || chatTemplate, "--chat-template and --no-chat-template exclude each other");
        require(responsesFrom == null || mode == Mode.SCORE, "--responses-from needs --mode score");
        require(
                responsesFrom == null || prompts == null,
                "--prompts and --responses-from exclude each other: the responses come with their prompts");
        require(
                responsesFrom != null || prompts != null,
                "give the corpus: --prompts FILE (or --responses-from RUN_DIR" + " with --mode score)");
        chatTemplateKwargs = chatTemplateKwargs == null ? Map.of() : chatTemplateKwargs;
    }

    /** Why {@code sample:N} is refused with a remote teacher. */
    public static final String SAMPLE_NEEDS_LOCAL = "--logits sample:N needs the teacher's full distribution, which a"
            + " --teacher-url server does not return (it sends top log-probs only); use --logits top-k:K or top-p:P[:KMAX]"
            + " with a remote teacher, or run the teacher locally with --teacher DIR";

    /** The most entries a position holds (k, KMAX or N). */
    public int topK() {
        return logits.size();
    }

    /** The teacher as recorded in the shards' footer: the model directory, or the served model's name. */
    public String teacherName() {
        return remote != null ? remote.model() : teacher.toString();
    }

    private static void require(boolean ok, String message) {
        UsageException.require(ok, message);
    }
}
