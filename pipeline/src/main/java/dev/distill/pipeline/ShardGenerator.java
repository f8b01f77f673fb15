package dev.distill.pipeline;

import dev.distill.data.Fidelity;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TeacherVocab;
import dev.distill.data.TextSpans;
import dev.distill.prompts.InvalidPromptException;
import dev.distill.prompts.PromptEncoder;
import dev.distill.prompts.PromptRecord;
import dev.distill.prompts.PromptSource;
import dev.distill.prompts.SkipReport;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.tokenizer.TokenBytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Produces a run's shards, one at a time: reads a shard's prompt range, encodes, batches and runs the teacher,
 * then writes the rows in (prompt_index, sample_index) order and commits the file. A shard's data depend only on
 * the run configuration and its prompt range, so `distill generate` and a cluster's tasks write the same bytes.
 */
public final class ShardGenerator {
    static final int MAX_BATCH_SIZE = 256;

    private final GenerateSpec spec;
    private final RunDirectory run;
    private final Teacher teacher;
    private final PromptEncoder encoder;
    private final BatchPlanner planner;
    private final GenerationParams params;
    private final ShardMetadata meta;
    /** The run whose completions are scored (--responses-from), or null when prompts come from the corpus. */
    private final ResponsesRun responses;
    /** The teacher's token bytes for the text columns (--store-spans), or null. */
    private final TokenBytes tokenBytes;

    private ShardGenerator(
            GenerateSpec spec,
            RunDirectory run,
            Teacher teacher,
            PromptEncoder encoder,
            BatchPlanner planner,
            GenerationParams params,
            ShardMetadata meta,
            ResponsesRun responses,
            TokenBytes tokenBytes) {
        this.spec = spec;
        this.run = run;
        this.teacher = teacher;
        this.encoder = encoder;
        this.planner = planner;
        this.params = params;
        this.meta = meta;
        this.responses = responses;
        this.tokenBytes = tokenBytes;
    }

    /**
     * A generator of {@code run}'s shards with a loaded {@code teacher} and {@code tokenizer}; it closes neither.
     *
     * @param inputs the run's resolved inputs ({@link RunInputs#resolve}), recorded in every shard's footer
     */
    public static ShardGenerator create(
            GenerateSpec spec, RunInputs inputs, RunDirectory run, Teacher teacher, HfTokenizer tokenizer) {
        GenerationParams params = new GenerationParams(
                spec.logits(),
                new TokenSampler(spec.mode() != Mode.SAMPLE, spec.temperature(), spec.topP()),
                teacher.stopTokens(tokenizer));
        ShardMetadata meta = new ShardMetadata(
                ShardMetadata.SCHEMA_VERSION,
                spec.topK(),
                teacher.vocabSize(),
                run.configHash(),
                spec.teacherName(),
                inputs.teacherSha256(),
                inputs.tokenizerSha256(),
                inputs.chatTemplateSha256(),
                inputs.corpusSha256(),
                spec.logits(),
                spec.encoding());
        try {
            meta = meta.withVersion(run.committedShardVersion().orElse(meta.schemaVersion()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        PromptEncoder encoder = new PromptEncoder(
                tokenizer,
                inputs.chatTemplate(spec, tokenizer).orElse(null),
                spec.chatTemplateKwargs(),
                spec.chatTemplate(),
                spec.mode() == Mode.SCORE,
                teacher.contextLength(),
                params::isEos);
        int budget = spec.maxBatchTokens() != null ? spec.maxBatchTokens() : teacher.defaultBatchTokens();
        // a server batches on its side: hand a remote teacher the whole shard, which it keeps --concurrency requests
        // deep
        BatchPlanner planner = spec.remote() != null
                ? new BatchPlanner(Integer.MAX_VALUE, Integer.MAX_VALUE)
                : new BatchPlanner(budget, MAX_BATCH_SIZE);
        ResponsesRun responses;
        try {
            responses = spec.responsesFrom() == null
                    ? null
                    : ResponsesRun.open(spec.responsesFrom(), inputs.tokenizerSha256());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(
                    "--responses-from " + spec.responsesFrom() + ": " + e.getMessage(), e);
        }
        TokenBytes tokenBytes = null;
        if (spec.storeSpans()) {
            tokenBytes = tokenizer.tokenBytes();
            writeVocab(run, tokenizer, tokenBytes, params.eosIds());
        }
        return new ShardGenerator(spec, run, teacher, encoder, planner, params, meta, responses, tokenBytes);
    }

    /** teacher_vocab.json: every id's bytes, the special and the stop ids (identical for every worker). */
    private static void writeVocab(RunDirectory run, HfTokenizer tokenizer, TokenBytes bytes, int[] stopIds) {
        byte[][] all = new byte[bytes.size()][];
        java.util.List<Integer> special = new ArrayList<>();
        for (int id = 0; id < all.length; id++) {
            all[id] = bytes.bytes(id);
            if (bytes.isSpecial(id)) {
                special.add(id);
            }
        }
        try {
            new TeacherVocab(
                            tokenizer.sha256(),
                            all,
                            special.stream().mapToInt(Integer::intValue).toArray(),
                            stopIds.clone())
                    .write(run);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(
                    run.location() + ": cannot write " + TeacherVocab.FILE + ": " + e.getMessage(), e);
        }
    }

    /**
     * The row's text columns: the prompt with its special tokens spelled out; the completion without special tokens
     * and without the stop token that ended it (it spans no bytes).
     */
    private TextSpans spans(int[] promptIds, int[] completionIds, String finishReason) {
        int n = completionIds.length;
        int textTokens = SoftLabelRow.STOP.equals(finishReason) && n > 0 ? n - 1 : n;
        int[] ends = new int[n];
        byte[] completion = tokenBytes.concat(java.util.Arrays.copyOf(completionIds, textTokens), false, ends);
        if (textTokens < n) {
            ends[n - 1] = completion.length;
        }
        String prompt = new String(tokenBytes.concat(promptIds, true, null), StandardCharsets.UTF_8);
        return new TextSpans(prompt, completion, ends);
    }

    /**
     * Opens the corpus for {@link #generate} (one source serves any number of shards in increasing order); null with
     * --responses-from, whose prompts come with the scored rows.
     */
    public PromptSource openPrompts() throws IOException {
        return responses != null ? null : PromptSource.open(spec.prompts(), RunInputs.promptOptions(spec));
    }

    /**
     * Generates and commits shard {@code index}, reading its prompts from {@code source} (positioned at or before
     * the shard's first prompt); counts skipped prompts into {@code skips}. Returns its completion-token count.
     */
    public long generate(int index, PromptSource source, SkipReport skips, Progress progress) throws IOException {
        long[] range = run.shardRange(index);
        List<WorkItem> items = responses != null
                ? responses.items(index, teacher.contextLength(), spec.skipInvalid(), skips)
                : corpusItems(range, source, skips);
        return label(index, items, range[1] - range[0], progress);
    }

    /** The work items of the corpus prompts in {@code range}: encoded, with this run's samples per prompt. */
    private List<WorkItem> corpusItems(long[] range, PromptSource source, SkipReport skips) throws IOException {
        source.skipTo(range[0]);
        List<WorkItem> items = new ArrayList<>();
        for (long p = range[0]; p < range[1]; p++) {
            PromptRecord r = source.next();
            if (!r.valid()) {
                if (!spec.skipInvalid()) {
                    throw source.invalid(r);
                }
                skips.add(r.invalidReason());
                continue;
            }
            PromptEncoder.Encoded e = encoder.encode(r);
            if (e.skipReason() != null) {
                if (!spec.skipInvalid()) {
                    throw new InvalidPromptException(spec.prompts(), r.index(), e.skipReason(), e.detail());
                }
                skips.add(e.skipReason());
                continue;
            }
            for (int s = 0; s < spec.samplesPerPrompt(); s++) {
                int maxNew = Math.min(spec.maxNewTokens(), teacher.contextLength() - e.promptIds().length);
                items.add(new WorkItem(
                        r.index(),
                        s,
                        e.promptIds(),
                        e.responseIds(),
                        maxNew,
                        WorkItem.rowSeed(spec.seed(), r.index(), s)));
            }
        }
        return items;
    }

    /** Runs the teacher over {@code items} and writes and commits shard {@code index}; returns its completion tokens. */
    private long label(int index, List<WorkItem> items, long prompts, Progress progress) throws IOException {
        List<TeacherOutput> outputs = new ArrayList<>(items.size());
        for (List<WorkItem> batch : planner.plan(items)) {
            List<TeacherOutput> done = OutOfMemory.retrySplitting(
                    batch,
                    b -> spec.mode() == Mode.SCORE ? teacher.score(b, spec.logits()) : teacher.generate(b, params));
            outputs.addAll(done);
            progress.advance(
                    0, done.stream().mapToLong(o -> o.completionIds().length).sum());
        }
        outputs.sort(Comparator.comparingLong((TeacherOutput o) -> o.item().promptIndex())
                .thenComparingInt(o -> o.item().sampleIndex()));
        long tokens = 0;
        Fidelity.Accumulator fidelity = new Fidelity.Accumulator();
        try (ShardWriter writer = run.openShard(index, meta)) {
            for (TeacherOutput o : outputs) {
                WorkItem w = o.item();
                SoftLabelRow row = SoftLabelRow.of(
                        w.promptIndex(),
                        w.sampleIndex(),
                        w.promptIds(),
                        o.completionIds(),
                        o.completionLogprobs(),
                        o.topkIds(),
                        o.topkLogprobs(),
                        o.finishReason());
                if (meta.schemaVersion() != 1) {
                    row = row.withLabels(o.labelSizes(), o.labelCounts());
                }
                writer.write(
                        tokenBytes == null
                                ? row
                                : row.withText(spans(w.promptIds(), o.completionIds(), o.finishReason())));
                tokens += o.completionIds().length;
                float[] f = o.fidelity();
                for (int t = 0; f != null && t < o.completionIds().length; t++) {
                    fidelity.add(f[t * 3], f[t * 3 + 1], f[t * 3 + 2]);
                }
            }
            writer.setFidelity(fidelity.summary());
            writer.commit();
        }
        progress.advance(prompts, 0);
        return tokens;
    }
}
