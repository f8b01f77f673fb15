package dev.distill.pipeline;

import dev.distill.data.LogitsSpec;
import dev.distill.tokenizer.HfTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/** A source of teacher soft labels for batches of work items: the local DJL model or a remote OpenAI-compatible server. */
public interface Teacher extends AutoCloseable {

    /** Size of the teacher's output distribution (embedding rows, possibly padded beyond the tokenizer). */
    int vocabSize();

    /** Stop tokens from the teacher's config.json and generation_config.json. */
    int[] eosIds();

    /** What stops a sequence: the teacher's eos ids and those of {@code tokenizer} (may be null), once each. */
    default int[] stopTokens(HfTokenizer tokenizer) {
        return tokenizer == null
                ? eosIds()
                : IntStream.concat(Arrays.stream(eosIds()), Arrays.stream(tokenizer.eosIds()))
                        .distinct()
                        .toArray();
    }

    /** Longest sequence (prompt + completion) the teacher accepts. */
    int contextLength();

    /** Token budget of one batch when --max-batch-tokens is not given. */
    default int defaultBatchTokens() {
        return BatchBudget.CPU_TOKENS;
    }

    /** Generates a completion for every item (greedy or sampled) recording the top-k at each position. */
    List<TeacherOutput> generate(List<WorkItem> batch, GenerationParams params);

    /** Teacher-forces every item's response, recording what {@code logits} asks for at each response position. */
    List<TeacherOutput> score(List<WorkItem> batch, LogitsSpec logits);

    /** Teacher-forces every item's response, recording the top-k at each response position. */
    default List<TeacherOutput> score(List<WorkItem> batch, int topK) {
        return score(batch, LogitsSpec.topK(topK));
    }

    @Override
    void close();
}
