package dev.distill.trainer;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.LogitsSpec;
import dev.distill.data.ShardSchema;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.model.LayerTaps;
import dev.distill.model.ModelConfig;
import dev.distill.prompts.PromptEncoder;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.trainer.TrainOptions.Precision;
import dev.distill.trainer.checkpoint.CheckpointStore;
import dev.distill.trainer.checkpoint.TrainerState;
import dev.distill.trainer.crosstok.AlignedBatch;
import dev.distill.trainer.crosstok.AlignedBatcher;
import dev.distill.trainer.crosstok.CrossTokMetrics;
import dev.distill.trainer.crosstok.CrossTokObjective;
import dev.distill.trainer.crosstok.CrossTokenizer;
import dev.distill.trainer.data.BatchTensors;
import dev.distill.trainer.data.DataMix;
import dev.distill.trainer.data.DataPosition;
import dev.distill.trainer.data.MicroBatch;
import dev.distill.trainer.data.MixedRowStream;
import dev.distill.trainer.data.RowLimits;
import dev.distill.trainer.data.RowSource;
import dev.distill.trainer.data.RowStream;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.data.TokenBudgetBatcher;
import dev.distill.trainer.loss.CrossTokenizerLoss;
import dev.distill.trainer.loss.DistillObjective;
import dev.distill.trainer.loss.FeatureLoss;
import dev.distill.trainer.loss.ValueRelationLoss;
import dev.distill.trainer.metrics.MetricsLog;
import dev.distill.trainer.metrics.MetricsPlot;
import dev.distill.trainer.metrics.TrainProgress;
import dev.distill.trainer.online.FeatureProjections;
import dev.distill.trainer.online.InternalDistillation;
import dev.distill.trainer.online.LayerMap;
import dev.distill.trainer.online.OnlineTeacher;
import dev.distill.trainer.optim.AdamW;
import dev.distill.trainer.optim.AdamWState;
import dev.distill.trainer.optim.GradClip;
import dev.distill.trainer.optim.Gradients;
import dev.distill.trainer.optim.LossScaler;
import dev.distill.trainer.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

/**
 * One training run of {@code distill train}: streams soft-label batches, runs the student forward at
 * the completion positions, accumulates per-token-normalised gradients over {@code --grad-accum}
 * micro-batches, clips, steps AdamW on fp32 master weights, and writes metrics, evaluations and
 * checkpoints to the output directory. {@link #open} sets everything up (resuming from the latest
 * checkpoint with {@code --resume}); {@link #run} trains to the end.
 */
public final class Trainer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LOG_EVERY = Duration.ofSeconds(10);

    private final TrainOptions options;
    private final Engine engine;
    private final StudentWeights weights;
    private final Path tokenizerSource;
    private final String tokenizerSha256;
    private final SoftLabelData evalData;
    private final long totalSteps;
    private final LrSchedule schedule;
    private final DistillObjective objective;
    /** What the training data stores of the teacher's distributions. */
    private final LogitsSpec labels;

    private final AdamW optimizer;
    private final GradClip clip;
    private final LossScaler scaler;
    private final CheckpointStore checkpoints;
    private final MetricsLog metrics;
    private final RowSource stream;
    private final TokenBudgetBatcher batcher;
    private final CrossTokenizer cross; // null unless the student's tokenizer differs from the data's
    private final AlignedBatcher crossBatcher;
    private final CrossTokObjective crossObjective;
    private final List<String> notes;
    private long step;
    private final long startStep;
    private long trainTokens;
    private long skippedSteps;
    private long lastEvalStep = -1;
    private long lastSavedStep = -1;
    private EvalMetrics lastEval;
    private CrossTokMetrics lastCrossEval;
    private LongConsumer afterStep = s -> {};
    private Online online;
    private HfTokenizer corpusTokenizer; // with --teacher: encodes corpus files given as --data

    /**
     * The online teacher of {@code --teacher} with what uses its internals: the feature and attention
     * terms (null when off) and the feature projections (null without --feature-loss), which train with the
     * student and live in the trainer state.
     */
    private record Online(OnlineTeacher teacher, InternalDistillation internals, FeatureProjections projections) {}

    /** What a finished run reports. */
    public record Result(
            long steps,
            long totalSteps,
            long skippedSteps,
            long trainTokens,
            Path finalModel,
            EvalMetrics lastEval,
            CrossTokMetrics lastCrossEval) {}

    /** One micro-batch: same-tokenizer rows, or rows re-tokenized for a student with another tokenizer. */
    private record Micro(MicroBatch same, AlignedBatch cross) {
        long trainTokens() {
            return same != null ? same.trainTokens() : cross.trainTokens();
        }

        long budgetTokens() {
            return same != null ? same.budgetTokens() : cross.budgetTokens();
        }

        long groups() {
            return cross == null ? 0 : cross.groups();
        }

        /** Input (prompt + completion) tokens the student reads; what the feature and attention terms average over. */
        long inputTokens() {
            return same != null ? same.inputTokens() : 0;
        }
    }

    private Trainer(
            TrainOptions options,
            Engine engine,
            StudentWeights weights,
            Path tokenizerSource,
            String tokenizerSha256,
            SoftLabelData data,
            SoftLabelData evalData,
            TrainerState resumed,
            CheckpointStore checkpoints,
            CrossTokenizer cross,
            List<String> notes) {
        this.options = options;
        this.engine = engine;
        this.weights = weights;
        this.tokenizerSource = tokenizerSource;
        this.tokenizerSha256 = tokenizerSha256;
        this.evalData = evalData;
        this.checkpoints = checkpoints;
        this.cross = cross;
        this.notes = notes;
        ModelConfig config = weights.master().config();
        // An online teacher makes the targets: only the rows' prompt and completion ids are read.
        int topK = options.online() != null ? 0 : data.topK();
        RowLimits limits = new RowLimits(config.vocabSize(), config.maxPositionEmbeddings(), topK, "student");
        this.totalSteps = resumed != null
                ? resumed.totalSteps()
                : options.steps() > 0
                        ? options.steps()
                        : cross != null
                                ? StepPlan.steps(
                                        cross.countMicroBatches(
                                                data,
                                                options.seed(),
                                                options.shuffleBuffer(),
                                                options.epochs(),
                                                options.batchTokens()),
                                        options)
                                : StepPlan.count(data, options, limits.lengthsOnly());
        this.schedule = options.schedule(totalSteps);
        this.objective = cross != null ? null : options.objective();
        this.labels = data.logits();
        this.crossObjective = cross == null
                ? null
                : new CrossTokObjective(
                        cross.loss(CrossTokenizerLoss.Kind.parse(options.loss())),
                        options.kdWeight(),
                        options.ceWeight());
        this.optimizer = new AdamW(weights.master().manager(), AdamW.Config.withWeightDecay(options.weightDecay()));
        this.clip = new GradClip(weights.master().manager());
        this.scaler = options.precision() == Precision.FP16 ? new LossScaler() : null;
        DataPosition position = DataPosition.START;
        if (resumed != null) {
            step = resumed.step();
            trainTokens = resumed.trainTokens();
            position = resumed.position();
            lastSavedStep = step;
            if (scaler != null) {
                scaler.load(resumed.lossScale(), resumed.scalerCleanSteps());
            }
        }
        this.startStep = step;
        MetricsLog log = null;
        RowSource rows = null;
        try {
            log = MetricsLog.open(options.out(), resumed != null ? step : -1);
            if (resumed != null) {
                for (JsonNode line : MetricsLog.read(options.out().resolve(MetricsLog.FILE))) {
                    if (line.path("eval").asBoolean(false) && line.path("step").asLong() == step) {
                        lastEvalStep = step;
                    }
                }
            }
            long epochs = options.epochs() > 0 ? options.epochs() : Long.MAX_VALUE;
            List<String> columns = cross != null
                    ? CrossTokenizer.COLUMNS
                    : options.online() != null
                            ? ShardSchema.COLUMNS.stream() // no stored labels: the teacher makes them
                                    .filter(c -> !List.of(
                                                    ShardSchema.TOPK_IDS,
                                                    ShardSchema.TOPK_LOGPROBS,
                                                    ShardSchema.LABEL_SIZES,
                                                    ShardSchema.LABEL_COUNTS)
                                            .contains(c))
                                    .toList()
                            : ShardSchema.COLUMNS;
            DataMix mix = DataMix.parse(options.data());
            rows = mix.weighted()
                    ? new MixedRowStream(
                            mix.locations().stream()
                                    .map(l -> SoftLabelData.open(List.of(l), "--data"))
                                    .toList(),
                            mix.weights(),
                            columns,
                            options.seed(),
                            options.shuffleBuffer(),
                            position)
                    : RowStream.shuffled(data, columns, options.seed(), options.shuffleBuffer(), epochs, position);
            this.batcher =
                    cross != null ? null : new TokenBudgetBatcher(rows, limits, options.batchTokens(), data.rows());
            this.crossBatcher =
                    cross == null ? null : cross.batcher(rows, options.batchTokens(), data.topK(), data.rows());
        } catch (RuntimeException e) {
            closeAll(e, rows, log, optimizer, clip);
            throw e;
        }
        this.metrics = log;
        this.stream = rows;
    }

    /** Closes what set-up had opened when it failed ({@code failure} keeps any error of theirs as suppressed). */
    private static void closeAll(RuntimeException failure, AutoCloseable... opened) {
        for (AutoCloseable c : opened) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    failure.addSuppressed(e);
                }
            }
        }
    }

    /**
     * Prepares a run: checks the output directory, the data and its tokenizer, loads the student (or,
     * with {@code --resume}, the latest checkpoint with its optimizer and data position).
     *
     * @throws IllegalArgumentException for an output directory holding another run, a tokenizer
     *     mismatch, options that differ from the checkpoint's, or bad data
     */
    public static Trainer open(TrainOptions given) {
        given.validate();
        TrainOptions options = given;
        Engine engine = Engines.pytorch();
        Device device = Engines.device(options.device());
        CheckpointStore checkpoints = new CheckpointStore(options.out());
        checkpoints.removeIncomplete();
        TrainerState resumed = null;
        Path modelDir = options.student();
        Optional<Path> latest = checkpoints.latest();
        if (options.resume() && latest.isPresent()) {
            modelDir = latest.get();
            resumed = TrainerState.read(modelDir);
            List<String> diffs = options.trajectoryDifferences(resumed.options());
            if (!diffs.isEmpty()) {
                throw new IllegalArgumentException("cannot resume from " + modelDir
                        + ": the run was started with other options: " + String.join("; ", diffs)
                        + ". Resume with the original options (see " + TrainerState.FILE + ").");
            }
        } else if (!options.resume()) {
            refuseExistingRun(options.out(), checkpoints);
        }
        String sha = tokenizerSha256(modelDir, "student");
        HfTokenizer corpusTokenizer = options.online() == null ? null : HfTokenizer.load(modelDir);
        SoftLabelData data;
        SoftLabelData evalData = null;
        StudentWeights weights;
        boolean crossTokenizer;
        List<String> notes = new ArrayList<>();
        try {
            data = SoftLabelData.open(
                    DataMix.parse(options.data()).locations(),
                    "--data",
                    corpusTokenizer == null ? null : scoreEncoder(corpusTokenizer, ModelConfig.load(modelDir)));
            if (!options.evalData().isEmpty()) {
                evalData = SoftLabelData.open(options.evalData(), "--eval-data");
            }
            // an online teacher shares the student's tokenizer: its data must too (checked below)
            crossTokenizer = options.online() == null && data.tokenizerDiffers(sha);
            options = options.forData(crossTokenizer, notes);
            if (!crossTokenizer) {
                data.requireTokenizer(sha, modelDir, "student");
                if (options.online() == null) {
                    options.objective().requireSupports(data.logits());
                }
                if (evalData != null) {
                    evalData.requireTokenizer(sha, modelDir, "student");
                }
            }
            weights = StudentWeights.load(modelDir, options.precision(), device);
        } catch (RuntimeException e) {
            if (corpusTokenizer != null) {
                corpusTokenizer.close();
            }
            throw e;
        }
        Trainer t = null;
        CrossTokenizer cross = null;
        try {
            if (crossTokenizer) {
                List<SoftLabelData> sets = evalData == null ? List.of(data) : List.of(data, evalData);
                cross = CrossTokenizer.open(
                        modelDir, weights.master().config(), sets, List.of("--data", "--eval-data"));
                notes.add(cross.describe());
            }
            // The teacher and its options are checked before the run writes anything into --out.
            Online online = options.online() == null
                    ? null
                    : openOnline(options, weights.master(), sha, modelDir, resumed != null ? modelDir : null, device);
            try {
                t = new Trainer(
                        options, engine, weights, modelDir, sha, data, evalData, resumed, checkpoints, cross, notes);
            } catch (RuntimeException e) {
                if (online != null) {
                    online.teacher().close();
                }
                throw e;
            }
            t.corpusTokenizer = corpusTokenizer;
            t.online = online;
            try {
                if (resumed != null) {
                    try (NDManager scratch = weights.master().manager().newSubManager()) {
                        t.optimizer.loadState(CheckpointStore.readOptimizer(modelDir, scratch), t.trainedParameters());
                    }
                }
            } catch (RuntimeException e) {
                t.closeRun(); // the weights and the tokenizer are closed below
                throw e;
            }
            return t;
        } catch (RuntimeException e) {
            weights.close();
            if (corpusTokenizer != null) {
                corpusTokenizer.close();
            }
            if (t == null && cross != null) { // a trainer closes its own
                cross.close();
            }
            throw e;
        }
    }

    /**
     * How a --data corpus file becomes rows: as 'distill generate --mode score' encodes it, with the student's
     * tokenizer and chat template; the response ends at the first of the model's eos ids. No context limit:
     * an overlong row loses the end of its response, as any row does.
     */
    private static PromptEncoder scoreEncoder(HfTokenizer tokenizer, ModelConfig config) {
        Set<Integer> eos = Arrays.stream(config.eosTokenIds()).boxed().collect(Collectors.toSet());
        return new PromptEncoder(
                tokenizer,
                tokenizer.chatTemplate().orElse(null),
                Map.of(),
                true,
                true,
                Integer.MAX_VALUE,
                eos::contains);
    }

    /**
     * Loads the online teacher (its tokenizer must be the student's) and sets up the feature and attention
     * terms; the projections are read from {@code resumeDir} when resuming, else initialised.
     */
    private static Online openOnline(
            TrainOptions options, CausalLM student, String studentSha, Path studentDir, Path resumeDir, Device device) {
        TeacherOptions o = options.online();
        String teacherSha = tokenizerSha256(o.teacher(), "teacher");
        if (!teacherSha.equals(studentSha)) {
            throw new IllegalArgumentException(
                    "tokenizer mismatch: the teacher " + o.teacher() + " has tokenizer sha256 "
                            + teacherSha + ", but the student " + studentDir + " has tokenizer sha256 " + studentSha
                            + "; online distillation needs the same tokenizer");
        }
        ModelConfig sc = student.config();
        OnlineTeacher teacher = OnlineTeacher.load(o.teacher(), o.dtype(), device, sc, o.topK());
        try {
            ModelConfig tc = teacher.model().config();
            FeatureLoss featureLoss = o.featureLoss() == null ? null : FeatureLoss.parse(o.featureLoss());
            LayerMap featureMap = featureLoss == null
                    ? null
                    : LayerMap.parse(o.layerMap(), sc.numLayers(), tc.numLayers(), "--layer-map");
            LayerMap attentionMap = o.attentionLoss() == null
                    ? null
                    : LayerMap.parse(o.attentionLayers(), sc.numLayers(), tc.numLayers(), "--attention-layers");
            LayerMap valueMap = o.valueRelationWeight() == 0
                    ? null
                    : LayerMap.parse(o.attentionLayers(), sc.numLayers(), tc.numLayers(), "--attention-layers");
            FeatureProjections projections = null;
            if (featureMap != null) {
                projections = resumeDir != null
                        ? FeatureProjections.read(
                                resumeDir, featureMap, sc.hiddenSize(), tc.hiddenSize(), student.manager())
                        : FeatureProjections.init(
                                featureMap, sc.hiddenSize(), tc.hiddenSize(), options.seed(), student.manager());
            }
            int relationHeads = o.relationHeads() > 0 ? o.relationHeads() : sc.numKvHeads();
            if (valueMap != null) {
                for (ModelConfig c : List.of(sc, tc)) {
                    String role = c == sc ? "student" : "teacher";
                    ValueRelationLoss.requireDivides(
                            relationHeads,
                            (long) c.numKvHeads() * c.headDim(),
                            role + "'s value width " + c.numKvHeads() * c.headDim() + " (" + c.numKvHeads()
                                    + " KV heads x " + c.headDim() + ")");
                }
            }
            InternalDistillation internals = featureMap == null && attentionMap == null && valueMap == null
                    ? null
                    : new InternalDistillation(
                            featureLoss,
                            o.featureWeight(),
                            featureMap,
                            projections,
                            o.attentionWeight(),
                            attentionMap,
                            o.valueRelationWeight(),
                            valueMap,
                            relationHeads,
                            sc.numLayers(),
                            tc.numLayers());
            return new Online(teacher, internals, projections);
        } catch (RuntimeException e) {
            teacher.close();
            throw e;
        }
    }

    /** Everything the optimizer updates: the student's fp32 master weights and the feature projections. */
    private Map<String, NDArray> trainedParameters() {
        if (online == null || online.projections() == null) {
            return weights.masterParameters();
        }
        Map<String, NDArray> all = new LinkedHashMap<>(weights.masterParameters());
        all.putAll(online.projections().parameters());
        return all;
    }

    /** The hash the data must carry: tokenizer.json + tokenizer_config.json (+ chat template) of a model directory. */
    static String tokenizerSha256(Path modelDir, String role) {
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException(
                    "--" + role + " " + modelDir + (Files.exists(modelDir) ? " is not a directory" : " does not exist")
                            + ": give a Hugging Face model directory (config.json, *.safetensors, tokenizer.json)");
        }
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException(
                    role + " " + modelDir + " has no tokenizer.json: its tokenizer files are needed"
                            + " to check the soft labels were made with the same tokenizer");
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(modelDir)) {
            return tokenizer.sha256();
        }
    }

    private static void refuseExistingRun(Path out, CheckpointStore checkpoints) {
        List<String> found = new ArrayList<>();
        checkpoints
                .steps()
                .forEach(s -> found.add(checkpoints.dir(s).getFileName().toString()));
        for (Path p : List.of(out.resolve(MetricsLog.FILE), checkpoints.finalDir())) {
            if (Files.exists(p)) {
                found.add(p.getFileName().toString());
            }
        }
        if (!found.isEmpty()) {
            throw new IllegalArgumentException("--out " + out + " already holds a training run ("
                    + String.join(", ", found) + "); pass --resume to continue it, or choose a new --out");
        }
    }

    /** Called after every optimizer step with the step number (tests watch memory with it). */
    void afterStep(LongConsumer listener) {
        this.afterStep = listener;
    }

    /** The fp32 student being trained. */
    CausalLM student() {
        return weights.master();
    }

    /** Trains from the current step to the end, then saves the final checkpoint, final/ and metrics.png. */
    public Result run() {
        try (TrainProgress progress = new TrainProgress(step, totalSteps, LOG_EVERY)) {
            notes.forEach(progress::note);
            if (evalData != null && step == 0 && lastEvalStep != 0) {
                evaluate(progress);
            }
            while (step < totalSteps) {
                List<Micro> micro = drawStep();
                if (micro.isEmpty()) {
                    break; // --epochs: the data ran out (only when the plan was counted on changed data)
                }
                ObjectNode line = trainStep(micro);
                metrics.write(line);
                progress.step(
                        step,
                        line.path("loss").asDouble(),
                        line.path("tokens_per_s").asDouble());
                afterStep.accept(step);
                if (evalData != null && options.evalEvery() > 0 && step % options.evalEvery() == 0) {
                    evaluate(progress);
                }
                if (options.saveEvery() > 0 && step % options.saveEvery() == 0) {
                    save(progress);
                }
            }
            if (evalData != null && lastEvalStep != step) {
                evaluate(progress);
            }
            if (lastSavedStep != step) {
                save(progress);
            }
            Path finalDir = checkpoints.saveFinal(weights.master(), tokenizerSource, state());
            MetricsPlot.write(options.out());
            progress.note("train: finished " + step + " steps; model in " + finalDir);
            return new Result(step, totalSteps, skippedSteps, trainTokens, finalDir, lastEval, lastCrossEval);
        }
    }

    /** The next step's micro-batches, all drawn before any backward so the step's token count is known. */
    private List<Micro> drawStep() {
        List<Micro> micro = new ArrayList<>();
        for (int i = 0; i < options.gradAccum(); i++) {
            MicroBatch mb = batcher != null ? batcher.next() : null;
            AlignedBatch ab = crossBatcher != null ? crossBatcher.next() : null;
            if (mb == null && ab == null) {
                break;
            }
            micro.add(new Micro(mb, ab));
        }
        return micro;
    }

    private ObjectNode trainStep(List<Micro> micro) {
        long started = System.nanoTime();
        long stepTokens = micro.stream().mapToLong(Micro::trainTokens).sum();
        long inputTokens = micro.stream().mapToLong(Micro::budgetTokens).sum();
        long stepInputTokens = micro.stream().mapToLong(Micro::inputTokens).sum();
        long stepGroups = micro.stream().mapToLong(Micro::groups).sum();
        double loss = 0;
        double kd = 0;
        double ce = 0;
        double feature = 0;
        double attention = 0;
        double valueRelation = 0;
        CausalLM forward = weights.forward();
        InternalDistillation internals = online == null ? null : online.internals();
        for (Micro mb : micro) {
            try (NDManager m = forward.manager().newSubManager();
                    NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning(); // closes what the step creates on the parameters' manager
                BatchTensors t = mb.same() == null ? null : mb.same().tensors(m, labels);
                AlignedBatch.Tensors aligned =
                        mb.cross() == null ? null : mb.cross().tensors(m, cross.twins(), cross.twinPenalty());
                NDArray ids = t == null ? null : t.topkIds();
                NDArray logprobs = t == null ? null : t.topkLogprobs();
                NDArray labelPadding = t == null ? null : t.labelPadding();
                NDArray labelWeights = t == null ? null : t.labelWeights();
                LayerTaps teacherTaps = internals == null ? null : internals.teacherTaps();
                if (online != null) { // before the collector: the teacher records no graph
                    OnlineTeacher.Targets targets = online.teacher().run(t, teacherTaps);
                    ids = targets.ids();
                    logprobs = targets.logprobs();
                    labelPadding = null;
                    labelWeights = null;
                }
                try (GradientCollector collector = engine.newGradientCollector()) {
                    LayerTaps studentTaps = internals == null ? null : internals.studentTaps();
                    DistillObjective.Terms terms;
                    if (aligned != null) {
                        NDArray logits = CompletionLogits.of(forward, aligned.student(), true); // [Ns, V]
                        terms = crossObjective.compute(logits, aligned, stepGroups, stepTokens);
                    } else if (labelWeights == null && objective.readsOnlyLabelIds()) {
                        // top-k KD with --tail zero: the LM head only at the teacher's ids, no [N, V] product
                        NDArray atIds = CompletionLogits.atIds(forward, t, ids, studentTaps); // [N, k]
                        terms = objective.computeAtIds(atIds, logprobs, labelPadding, t.weights(), stepTokens);
                    } else {
                        NDArray logits = CompletionLogits.of(forward, t, true, studentTaps); // [N, V]
                        terms = objective.compute(
                                logits,
                                ids,
                                logprobs,
                                labelPadding,
                                labelWeights,
                                t.targets(),
                                t.targetLogprobs(),
                                t.weights(),
                                stepTokens);
                    }
                    NDArray total = terms.total();
                    InternalDistillation.Terms inner = null;
                    if (internals != null) {
                        inner = internals.compute(studentTaps, teacherTaps, t.attentionMask(), stepInputTokens);
                        total = total.add(inner.weighted());
                    }
                    collector.backward(scaler == null ? total : scaler.scale(total));
                    loss += total.getFloat();
                    kd += terms.kd() == null ? 0 : terms.kd().getFloat();
                    ce += terms.ce() == null ? 0 : terms.ce().getFloat();
                    if (inner != null) {
                        feature += inner.feature() == null ? 0 : inner.feature().getFloat();
                        attention += inner.attention() == null
                                ? 0
                                : inner.attention().getFloat();
                        valueRelation += inner.valueRelation() == null
                                ? 0
                                : inner.valueRelation().getFloat();
                    }
                }
            }
        }
        double lr = schedule.lr(optimizer.stepCount());
        float norm;
        boolean applied;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning(); // closes the gradient views and fp32 copies
            Map<String, NDArray> grads = weights.gradients();
            if (step == startStep) {
                requireEveryParameterTrains(grads);
            }
            if (online != null && online.projections() != null) {
                online.projections().parameters().forEach((name, p) -> {
                    NDArray g = Gradients.of(p);
                    if (g != null) {
                        grads.put(name, g);
                    }
                });
            }
            List<NDArray> gradList = new ArrayList<>(grads.values());
            boolean finite = scaler == null || scaler.unscale(gradList);
            norm = finite ? clip.globalNorm(gradList, options.maxGradNorm()) : Float.NaN;
            finite = finite && Float.isFinite(norm);
            if (scaler == null && !finite) {
                throw new IllegalStateException("step " + (step + 1) + ": the gradient norm is " + norm + " (loss "
                        + loss + "): training diverged; lower --lr or use --max-grad-norm");
            }
            applied = scaler == null || scaler.update(finite);
            if (applied) {
                optimizer.step(trainedParameters(), grads, lr);
                weights.afterUpdate();
            }
            weights.zeroGradients();
            if (online != null && online.projections() != null) {
                Gradients.zero(online.projections().parameters());
            }
        }
        step++;
        trainTokens += stepTokens;
        if (!applied) {
            skippedSteps++;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        ObjectNode line = JSON.createObjectNode();
        line.put("step", step);
        line.put("epoch", position().epoch());
        line.put("loss", loss);
        line.put("kd", kd);
        line.put("ce", ce);
        if (internals != null && online.projections() != null) {
            line.put("feature", feature);
        }
        if (internals != null && options.online().attentionLoss() != null) {
            line.put("attention", attention);
        }
        if (internals != null && options.online().valueRelationWeight() != 0) {
            line.put("value_relation", valueRelation);
        }
        line.put("lr", lr);
        line.put("grad_norm", norm);
        line.put("tokens", stepTokens);
        line.put("input_tokens", inputTokens);
        line.put("micro_batches", micro.size());
        if (cross != null) {
            line.put("aligned", stepGroups);
            line.put("coverage", stepTokens == 0 ? 0 : (double) stepGroups / stepTokens);
        }
        line.put("tokens_per_s", inputTokens / Math.max(seconds, 1e-9));
        if (scaler != null) {
            line.put("loss_scale", scaler.scale());
            line.put("skipped", !applied);
            line.put("skipped_steps", skippedSteps);
        }
        return line;
    }

    /** Refuses to train a model whose forward pass does not reach every parameter (checked on a run's first step). */
    private void requireEveryParameterTrains(Map<String, NDArray> grads) {
        List<String> missing = weights.withoutGradient(grads);
        if (!missing.isEmpty()) {
            throw new IllegalStateException(
                    "--precision " + options.precision().cliName() + ": no gradient reached "
                            + missing.size() + " of " + (missing.size() + grads.size()) + " parameters ("
                            + String.join(", ", missing.subList(0, Math.min(3, missing.size())))
                            + (missing.size() > 3 ? ", ..." : "")
                            + "): the model's forward pass in this precision is not differentiable end to end; use --precision fp32");
        }
    }

    private void evaluate(TrainProgress progress) {
        ObjectNode line = JSON.createObjectNode();
        line.put("step", step);
        line.put("eval", true);
        if (cross != null) {
            lastCrossEval = CrossTokEvaluator.evaluate(
                    weights.master(), cross, evalData, options.batchTokens(), Long.MAX_VALUE);
            line.put("kl", lastCrossEval.alignedKl()); // what metrics.png plots
            line.setAll(lastCrossEval.toJson());
            progress.note(String.format(
                    Locale.ROOT,
                    "eval at step %d: ce/byte %.5f, aligned kl %.5f, coverage %.4f",
                    step,
                    lastCrossEval.cePerByte(),
                    lastCrossEval.alignedKl(),
                    lastCrossEval.coverage()));
        } else {
            lastEval = Evaluator.evaluate(weights.master(), evalData, options.batchTokens(), Long.MAX_VALUE, "student");
            line.setAll(lastEval.toJson());
            progress.note(String.format(
                    Locale.ROOT,
                    "eval at step %d: kl %.5f, top1 %.4f, ce %.4f",
                    step,
                    lastEval.kl(),
                    lastEval.top1(),
                    lastEval.ce()));
        }
        metrics.write(line);
        lastEvalStep = step;
    }

    /** Where the data stream is: the first row not yet trained on. */
    private DataPosition position() {
        return batcher != null ? batcher.position() : crossBatcher.position();
    }

    private void save(TrainProgress progress) {
        AdamWState opt = optimizer.state();
        Path dir = checkpoints.save(
                step,
                weights.master(),
                tokenizerSource,
                state(),
                opt,
                online == null || online.projections() == null ? null : online.projections()::write);
        lastSavedStep = step;
        progress.note("train: saved " + dir);
    }

    private TrainerState state() {
        return new TrainerState(
                step,
                totalSteps,
                position(),
                trainTokens,
                scaler == null ? null : scaler.scale(),
                scaler == null ? null : scaler.cleanSteps(),
                tokenizerSha256,
                options.toJson());
    }

    /** Closes what the run opened besides the student's weights and the corpus tokenizer (the cross-tokenizer state included). */
    private void closeRun() {
        stream.close();
        metrics.close();
        optimizer.close();
        clip.close();
        if (scaler != null) {
            scaler.close();
        }
        if (online != null) {
            online.teacher().close();
        }
        if (cross != null) {
            cross.close();
        }
    }

    @Override
    public void close() {
        try {
            closeRun();
            if (corpusTokenizer != null) {
                corpusTokenizer.close();
            }
        } finally {
            weights.close();
        }
    }
}
