package dev.distill.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.distill.data.LogitsSpec;
import dev.distill.model.Batching;
import dev.distill.model.CategoricalDraws;
import dev.distill.model.CausalLM;
import dev.distill.model.DecodeHead;
import dev.distill.model.KvCache;
import dev.distill.model.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The teacher as a DJL model in this process. Generation decodes a left-padded batch together with a
 * preallocated KV cache and retires finished rows; scoring runs one prefill per group of rows with
 * the LM head applied in chunks of positions. On a CPU both keep each forward to a few hundred tokens
 * ({@link #CPU_FORWARD_TOKENS}): prompts are prefilled a few positions at a time, scored a few rows at
 * a time. A decode step is four libtorch calls (five in float16) besides one per decoder layer ({@link CausalLM#decode}: the step's
 * inputs, the layers, the final norm; the LM head; {@link LabelCapture.Decoder}: the choice and the labels), the
 * chosen tokens stay on the device as the next input and what {@code --logits} needs comes to the host in one copy
 * (the top or drawn entries' log-probs and ids, the chosen token's, the entropy); under {@code -Ddistill.decode=ops}
 * the step runs op by op ({@link TokenSampler.Draw#choose}, {@link LabelCapture#capture}).
 */
public final class LocalTeacher implements Teacher {
    /** Upper bound on positions x vocabulary materialised at once by the LM head when scoring. */
    private static final long SCORE_LOGITS_BUDGET = 1L << 24;

    /**
     * On a CPU, tokens (rows x positions) of one forward: a batch is scored a few rows at a time and its
     * prompts are prefilled a few positions at a time, so each layer's activations ([rows, T, intermediate] float32: 2.9 MB at 512 tokens of the
     * bench preset) stay in the caches instead of streaming through memory at every elementwise op
     * (measured in docs/model.md, "Where the time goes"). On a GPU the whole batch is one forward.
     */
    static final int CPU_FORWARD_TOKENS = 512;

    /** Id written into left padding; masked out, so any valid id does. */
    private static final long PAD_ID = 0;

    private final CausalLM model;
    private CategoricalDraws draws; // loaded by the first sample:N batch
    private DecodeHead head; // loaded by the first generated batch
    private final int forwardTokens;

    public LocalTeacher(CausalLM model) {
        this(model, model.device().isGpu() ? Integer.MAX_VALUE : CPU_FORWARD_TOKENS);
    }

    /**
     * A teacher whose prefills and scoring forwards hold up to {@code forwardTokens} tokens (rows x positions). The
     * teacher never trains: the model's linear layers are packed for inference ({@link CausalLM#packForInference}:
     * oneDNN's linear on the CPU in float32, the matmul elsewhere).
     */
    LocalTeacher(CausalLM model, int forwardTokens) {
        model.packForInference();
        this.model = model;
        this.forwardTokens = forwardTokens;
    }

    private LabelCapture labelCapture(LogitsSpec spec) {
        if (spec.sampled() && draws == null) {
            draws = new CategoricalDraws(model.manager());
        }
        return new LabelCapture(spec, vocabSize(), spec.sampled() ? draws : null);
    }

    private DecodeHead head() {
        if (head == null) {
            head = new DecodeHead(model.manager());
        }
        return head;
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public int defaultBatchTokens() {
        return BatchBudget.defaultTokens(model.config(), model.dtype(), model.device());
    }

    @Override
    public int[] eosIds() {
        return model.config().eosTokenIds();
    }

    @Override
    public int contextLength() {
        return model.config().maxPositionEmbeddings();
    }

    @Override
    public List<TeacherOutput> generate(List<WorkItem> batch, GenerationParams params) {
        return Ops.withoutGradients(() -> decode(batch, params)); // whichever thread calls: the teacher never records
    }

    private List<TeacherOutput> decode(List<WorkItem> batch, GenerationParams params) {
        int rows = batch.size();
        int promptLen = batch.stream().mapToInt(w -> w.promptIds().length).max().orElseThrow();
        int capacity = promptLen
                + batch.stream().mapToInt(WorkItem::maxNewTokens).max().orElseThrow();
        LabelCapture capture = labelCapture(params.logits());
        RowRecorder[] rec = new RowRecorder[rows];
        for (int b = 0; b < rows; b++) {
            rec[b] = new RowRecorder(batch.get(b));
        }
        try (NDManager bm = model.manager().newSubManager();
                KvCache cache = model.newCache(rows, capacity)) {
            Batching.LeftPadded prompts =
                    Batching.leftPad(batch.stream().map(WorkItem::promptIds).toList(), promptLen, PAD_ID);
            // mask over the whole cache: each row's padding, then ones for its prompt and everything it generates
            int[] spans = Arrays.stream(prompts.lengths())
                    .map(n -> n + capacity - promptLen)
                    .toArray();
            NDArray mask = bm.create(Batching.attentionMask(spans, capacity), new Shape(rows, capacity)); // [B, cap]
            TokenSampler.Draw sampler = params.sampler().on(bm);
            // What the next step feeds, kept on the device: the prompts, then the tokens just chosen.
            NDArray input = prompts.inputIds(bm); // [B, P], then [Ba, 1]
            NDArray positions = prompts.positionIds(bm); // [B, P]; a decode step reads its positions off the mask
            int[] active = range(rows); // batch row of each cache row
            // Every chunk of positions of the prompts but the last only fills the cache (see CPU_FORWARD_TOKENS).
            int chunk = Math.max(1, forwardTokens / rows);
            int filled = 0;
            for (; promptLen - filled > chunk; filled += chunk) {
                try (NDManager sm = bm.newSubManager()) {
                    String cols = ":, " + filled + ":" + (filled + chunk);
                    NDArray chunkMask = mask.get(":, :" + (filled + chunk)); // [B, S]
                    NDArray chunkInput = input.get(cols); // [B, chunk]
                    NDArray chunkPositions = positions.get(cols); // [B, chunk]
                    new NDList(chunkMask, chunkInput, chunkPositions).attach(sm);
                    model.hidden(chunkInput, chunkPositions, chunkMask, cache); // [B, chunk, H], attached to sm
                }
            }
            if (filled > 0) {
                input = input.get(":, " + filled + ":"); // [B, P - filled]
                positions = positions.get(":, " + filled + ":");
            }
            // one call for the step's choice and labels, unless the model decodes op by op (-Ddistill.decode=ops)
            LabelCapture.Decoder decoder = model.fusedDecode() ? capture.decoder(head(), sampler, bm) : null;
            for (int step = 0; active.length > 0; step++) {
                try (NDManager sm = bm.newSubManager()) {
                    input.attach(sm); // freed with this step; ops on it put their results in sm
                    NDArray logits; // [Ba, V] or [Ba, 1, V] fp32
                    if (step == 0) { // the prompts' last chunk
                        positions.attach(sm);
                        NDArray stepMask = mask.get(
                                ":, :" + (cache.length() + input.getShape().get(1))); // [B, S]
                        stepMask.attach(sm);
                        NDArray hidden = model.hidden(input, positions, stepMask, cache); // [B, T, H]
                        logits = model.logits(hidden.get(":, -1, :")); // [B, V]
                    } else {
                        logits = model.logits(model.decode(input, mask, cache)); // [Ba, 1, V]
                    }
                    long[] seeds = new long[active.length];
                    int[] lengths = new int[active.length];
                    for (int i = 0; i < active.length; i++) {
                        seeds[i] = rec[active[i]].item.rowSeed();
                        lengths[i] = rec[active[i]].length();
                    }
                    // the step's copies to the host: the labels, the chosen token and its log-prob
                    LabelCapture.Step labels;
                    NDArray chosen; // [Ba, 1]
                    if (decoder != null) {
                        LabelCapture.Decoded d = decoder.step(logits, seeds, lengths, step);
                        labels = d.labels();
                        chosen = d.chosen();
                    } else {
                        NDArray flat = logits.reshape(active.length, -1); // [Ba, V]
                        chosen = sampler.choose(flat, seeds, step).expandDims(1);
                        labels = capture.capture(flat, flat.logSoftmax(1), chosen, seeds, lengths, 0);
                    }
                    List<Integer> keep = new ArrayList<>(active.length);
                    for (int i = 0; i < active.length; i++) {
                        RowRecorder r = rec[active[i]];
                        int token = labels.token(i);
                        labels.record(i, r.labels);
                        r.append(token, labels.tokenLogprob(i));
                        if (params.isEos(token)) {
                            r.finish("stop");
                        } else if (r.length() == r.item.maxNewTokens()) {
                            r.finish("length");
                        } else {
                            keep.add(i);
                        }
                    }
                    input = chosen;
                    if (keep.size() < active.length && !keep.isEmpty()) {
                        long[] kept =
                                keep.stream().mapToLong(Integer::longValue).toArray();
                        cache.retain(kept);
                        NDArray keptRows = sm.create(kept); // [Ba']
                        NDArray narrowed = mask.get(keptRows); // [Ba', cap]
                        mask.close();
                        mask = narrowed;
                        input = input.get(keptRows); // [Ba', 1]
                    }
                    input.attach(bm); // survive this step's manager
                    int[] nextActive = new int[keep.size()];
                    for (int j = 0; j < nextActive.length; j++) {
                        nextActive[j] = active[keep.get(j)];
                    }
                    active = nextActive;
                }
            }
        }
        List<TeacherOutput> out = new ArrayList<>(rows);
        for (RowRecorder r : rec) {
            out.add(r.output());
        }
        return out;
    }

    @Override
    public List<TeacherOutput> score(List<WorkItem> batch, LogitsSpec logitsSpec) {
        return Ops.withoutGradients(() -> scoreAll(batch, logitsSpec));
    }

    private List<TeacherOutput> scoreAll(List<WorkItem> batch, LogitsSpec logitsSpec) {
        LabelCapture capture = labelCapture(logitsSpec);
        TeacherOutput[] out = new TeacherOutput[batch.size()];
        for (int[] group : forwardGroups(batch, forwardTokens)) {
            List<WorkItem> rows = Arrays.stream(group).mapToObj(batch::get).toList();
            List<TeacherOutput> scored = scoreRows(rows, capture);
            for (int i = 0; i < group.length; i++) {
                out[group[i]] = scored.get(i);
            }
        }
        return List.of(out);
    }

    /**
     * The rows of {@code batch} (indices) in groups of one forward each: longest first, a group holding
     * as many rows as fit in {@code tokens} at its longest row's span (always at least one row).
     */
    static List<int[]> forwardGroups(List<WorkItem> batch, int tokens) {
        Integer[] order = new Integer[batch.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(
                order,
                (a, b) -> Integer.compare(batch.get(b).tokenSpan(), batch.get(a).tokenSpan()));
        List<int[]> groups = new ArrayList<>();
        for (int from = 0; from < order.length; ) {
            long span = batch.get(order[from]).tokenSpan();
            int n = (int) Math.max(1, Math.min(order.length - from, tokens / span));
            int[] g = new int[n];
            for (int i = 0; i < n; i++) {
                g[i] = order[from + i];
            }
            groups.add(g);
            from += n;
        }
        return groups;
    }

    /** One forward over {@code batch} (left-padded to its longest row), the LM head in chunks of positions. */
    private List<TeacherOutput> scoreRows(List<WorkItem> batch, LabelCapture capture) {
        int rows = batch.size();
        int total = batch.stream().mapToInt(WorkItem::tokenSpan).max().orElseThrow();
        List<TeacherOutput> out = new ArrayList<>(rows);
        try (NDManager bm = model.manager().newSubManager()) {
            Batching.LeftPadded seqs = Batching.leftPad(
                    batch.stream()
                            .map(w -> concat(w.promptIds(), w.responseIds()))
                            .toList(),
                    total,
                    PAD_ID);
            NDArray ids = seqs.inputIds(bm).toDevice(model.device(), false); // [B, T]
            NDArray positions = seqs.positionIds(bm).toDevice(model.device(), false); // [B, T]
            NDArray mask = seqs.attentionMask(bm).toDevice(model.device(), false); // [B, T]
            NDArray hidden = model.hidden(ids, positions, mask, null); // [B, T, H]
            // Position t predicts token t+1: row b's response occupies [T-R, T), predicted from [T-R-1, T-1).
            NDList slices = new NDList();
            int tokens = 0;
            for (int b = 0; b < rows; b++) {
                int r = batch.get(b).responseIds().length;
                slices.add(hidden.get(b + ", " + (total - r - 1) + ":" + (total - 1) + ", :")); // [R_b, H]
                tokens += r;
            }
            NDArray predictors = NDArrays.concat(slices, 0); // [N, H]
            long[] targets = new long[tokens];
            long[] rowSeeds = new long[tokens];
            int[] positionInRow = new int[tokens];
            LabelBuffer[] labels = new LabelBuffer[rows];
            LabelBuffer[] labelsAt = new LabelBuffer[tokens];
            int t = 0;
            for (int b = 0; b < rows; b++) {
                WorkItem w = batch.get(b);
                labels[b] = new LabelBuffer();
                for (int r = 0; r < w.responseIds().length; r++, t++) {
                    targets[t] = w.responseIds()[r];
                    rowSeeds[t] = w.rowSeed();
                    positionInRow[t] = r;
                    labelsAt[t] = labels[b];
                }
            }
            float[] tokenLogp = new float[tokens];
            int chunk = (int) Math.max(1, Math.min(tokens, SCORE_LOGITS_BUDGET / vocabSize()));
            for (int start = 0; start < tokens; start += chunk) {
                int end = Math.min(tokens, start + chunk);
                try (NDManager cm = bm.newSubManager()) {
                    NDArray target = cm.create(Arrays.copyOfRange(targets, start, end), new Shape(end - start, 1))
                            .toDevice(model.device(), false); // [C, 1]
                    NDArray h = predictors.get(start + ":" + end);
                    h.attach(cm);
                    NDArray logits = model.logits(h); // [C, V]
                    LabelCapture.Step step =
                            capture.capture(logits, logits.logSoftmax(1), target, rowSeeds, positionInRow, start);
                    for (int i = 0; i < end - start; i++) {
                        tokenLogp[start + i] = step.tokenLogprob(i);
                        step.record(i, labelsAt[start + i]);
                    }
                }
            }
            int offset = 0;
            for (int b = 0; b < rows; b++) {
                WorkItem w = batch.get(b);
                int r = w.responseIds().length;
                out.add(TeacherOutput.of(
                        w,
                        w.responseIds().clone(),
                        Arrays.copyOfRange(tokenLogp, offset, offset + r),
                        labels[b],
                        "scored"));
                offset += r;
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (draws != null) {
            draws.close();
        }
        if (head != null) {
            head.close();
        }
        model.close();
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** One row's growing completion and label record. */
    private static final class RowRecorder {
        final WorkItem item;
        final LabelBuffer labels = new LabelBuffer();
        private int[] ids;
        private float[] logp;
        private int n;
        private String finish;

        RowRecorder(WorkItem item) {
            this.item = item;
            int cap = Math.min(item.maxNewTokens(), 64);
            ids = new int[cap];
            logp = new float[cap];
        }

        int length() {
            return n;
        }

        void append(int token, float tokenLogp) {
            if (n == ids.length) {
                int cap = Math.min(item.maxNewTokens(), ids.length * 2);
                ids = Arrays.copyOf(ids, cap);
                logp = Arrays.copyOf(logp, cap);
            }
            ids[n] = token;
            logp[n] = tokenLogp;
            n++;
        }

        void finish(String reason) {
            finish = reason;
        }

        TeacherOutput output() {
            return TeacherOutput.of(item, Arrays.copyOf(ids, n), Arrays.copyOf(logp, n), labels, finish);
        }
    }
}
