package dev.distill.trainer;

import dev.distill.trainer.TrainOptions.Precision;
import dev.distill.trainer.loss.TailMode;
import dev.distill.trainer.optim.LrSchedule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `distill train`: Fine-tune a student on top-k soft targets written by 'distill generate'. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Fine-tune a student on top-k soft targets written by 'distill generate'.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--student",
            required = true,
            paramLabel = "DIR",
            description = "Student model directory (config.json, model.safetensors, tokenizer files).")
    Path student;

    @Option(
            names = "--data",
            required = true,
            split = ",",
            paramLabel = "DIR",
            description =
                    "Soft-label run directories from 'distill generate' (comma-separated or repeated): read one after"
                            + " the other, or mixed by weight with DIR:W (e.g. onpolicy-run:0.7,offline-run:0.3; needs --steps).")
    List<String> data;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "DIR",
            description = "Output directory: checkpoints, final/, metrics.jsonl, metrics.png.")
    Path out;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps (or give --epochs).")
    long steps;

    @Option(names = "--epochs", paramLabel = "E", description = "Passes over the data (or give --steps).")
    int epochs;

    @Option(
            names = "--batch-tokens",
            defaultValue = "4096",
            paramLabel = "N",
            description =
                    "Prompt + completion tokens per micro-batch (a longer row forms a batch alone). Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Option(
            names = "--grad-accum",
            defaultValue = "1",
            paramLabel = "N",
            description = "Micro-batches per optimizer step. Default: ${DEFAULT-VALUE}.")
    int gradAccum;

    @Option(
            names = "--lr",
            defaultValue = "1e-5",
            paramLabel = "LR",
            description = "Peak learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(
            names = "--warmup-steps",
            defaultValue = "0",
            paramLabel = "N",
            description = "Linear warmup steps from 0. Default: ${DEFAULT-VALUE}.")
    long warmupSteps;

    @Option(
            names = {"--schedule", "--lr-schedule"},
            defaultValue = "cosine",
            paramLabel = "KIND",
            description = "cosine, linear or constant after warmup. Default: ${DEFAULT-VALUE}.")
    LrSchedule.Kind schedule;

    @Option(
            names = "--min-lr-ratio",
            defaultValue = "0",
            paramLabel = "R",
            description = "Cosine only: floor of the learning rate as a fraction of --lr. Default: ${DEFAULT-VALUE}.")
    double minLrRatio;

    @Option(
            names = "--weight-decay",
            defaultValue = "0.0",
            paramLabel = "WD",
            description = "AdamW decoupled weight decay (matrices only). Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(
            names = "--max-grad-norm",
            defaultValue = "1.0",
            paramLabel = "NORM",
            description = "Global gradient-norm clipping threshold. Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;

    @Option(
            names = "--loss",
            paramLabel = "NAME",
            description = "forward-kl, reverse-kl, jsd, tvd (over the teacher's top-k), or sampled-rkl (on-policy: the"
                    + " student's sampled tokens, needs data scored by the teacher); uld or gold for a student whose"
                    + " tokenizer differs from the data's. Default: forward-kl, or gold when the tokenizers differ.")
    String loss;

    @Option(
            names = {"--jsd-beta", "--beta"},
            defaultValue = "0.5",
            paramLabel = "BETA",
            description = "jsd only: weight of the teacher in the mixture. Default: ${DEFAULT-VALUE}.")
    double jsdBeta;

    @Option(
            names = "--kd-temperature",
            defaultValue = "1.0",
            paramLabel = "T",
            description = "Distillation temperature (loss scaled by T^2). Default: ${DEFAULT-VALUE}.")
    double kdTemperature;

    @Option(
            names = "--ce-weight",
            defaultValue = "0.0",
            paramLabel = "W",
            description = "Weight of cross-entropy on the teacher's sampled tokens. Default: ${DEFAULT-VALUE}.")
    double ceWeight;

    @Option(
            names = "--kd-weight",
            defaultValue = "1.0",
            paramLabel = "W",
            description = "Weight of the distillation loss. Default: ${DEFAULT-VALUE}.")
    double kdWeight;

    @Option(
            names = "--tail",
            defaultValue = "bucket",
            paramLabel = "MODE",
            description =
                    "Mass outside the teacher's top-k: zero (renormalise both) or bucket (one extra outcome). Default: ${DEFAULT-VALUE}.")
    TailMode tail;

    @Option(
            names = "--eval-data",
            split = ",",
            paramLabel = "DIR",
            description = "Held-out soft-label run directories to evaluate on (KL, top-1, CE).")
    List<String> evalData = new ArrayList<>();

    @Option(
            names = "--eval-every",
            defaultValue = "0",
            paramLabel = "N",
            description =
                    "Evaluate every N steps (always at the start and the end with --eval-data). Default: ${DEFAULT-VALUE}.")
    long evalEvery;

    @Option(
            names = "--save-every",
            defaultValue = "0",
            paramLabel = "N",
            description = "Checkpoint every N steps (always at the end). Default: ${DEFAULT-VALUE}.")
    long saveEvery;

    @Option(
            names = "--seed",
            defaultValue = "0",
            paramLabel = "N",
            description = "Data order seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(
            names = "--device",
            defaultValue = "auto",
            paramLabel = "DEVICE",
            description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(
            names = "--precision",
            defaultValue = "fp32",
            paramLabel = "P",
            description =
                    "fp32, or fp16: forward/backward on a half-precision copy of fp32 master weights with dynamic loss"
                            + " scaling (skipped steps and the scale are in metrics.jsonl). Default: ${DEFAULT-VALUE}.")
    Precision precision;

    @Option(
            names = "--shuffle-buffer",
            defaultValue = "1024",
            paramLabel = "ROWS",
            description =
                    "Rows held for shuffling (memory is bounded by this, not the data size). Default: ${DEFAULT-VALUE}.")
    int shuffleBuffer;

    @Option(names = "--resume", description = "Continue from the latest checkpoint in --out.")
    boolean resume;

    @Option(
            names = "--teacher",
            paramLabel = "DIR",
            description =
                    "Online teacher (same tokenizer, frozen): it runs on every micro-batch and gives the soft targets;"
                            + " --data then needs only prompt and completion ids.")
    Path teacher;

    @Option(
            names = "--teacher-dtype",
            defaultValue = "auto",
            paramLabel = "auto|fp32|fp16",
            description = "The online teacher's dtype: fp16 on GPU, fp32 on CPU when auto. Default: ${DEFAULT-VALUE}.")
    String teacherDtype;

    @Option(
            names = "--teacher-top-k",
            defaultValue = "0",
            paramLabel = "K",
            description = "Online targets: 0 = the teacher's full-vocabulary distribution, K = its top-K (as 'distill"
                    + " generate' stores). Default: ${DEFAULT-VALUE}.")
    int teacherTopK;

    @Option(
            names = "--feature-loss",
            paramLabel = "mse|cosine",
            description = "Hidden-state distillation through learned projections (needs --teacher).")
    String featureLoss;

    @Option(
            names = "--feature-weight",
            defaultValue = "1.0",
            paramLabel = "W",
            description = "Weight of the feature term. Default: ${DEFAULT-VALUE}.")
    double featureWeight;

    @Option(
            names = "--layer-map",
            defaultValue = "auto",
            paramLabel = "auto|s:t,...",
            description =
                    "Student:teacher layer pairs for --feature-loss; auto spreads the student's layers uniformly over"
                            + " the teacher's. Default: ${DEFAULT-VALUE}.")
    String layerMap;

    @Option(
            names = "--attention-loss",
            paramLabel = "kl",
            description = "MiniLM-style KL between teacher and student attention distributions (needs --teacher).")
    String attentionLoss;

    @Option(
            names = "--attention-weight",
            defaultValue = "1.0",
            paramLabel = "W",
            description = "Weight of the attention term. Default: ${DEFAULT-VALUE}.")
    double attentionWeight;

    @Option(
            names = "--attention-layers",
            defaultValue = "last",
            paramLabel = "last|auto|s:t,...",
            description =
                    "Student:teacher layer pairs for --attention-loss and --value-relation-weight. Default: ${DEFAULT-VALUE}.")
    String attentionLayers;

    @Option(
            names = "--value-relation-weight",
            defaultValue = "0",
            paramLabel = "W",
            description =
                    "Weight of MiniLM's value-relation KL on the --attention-layers pairs (needs --teacher; 0: off)."
                            + " Default: ${DEFAULT-VALUE}.")
    double valueRelationWeight;

    @Option(
            names = "--relation-heads",
            defaultValue = "0",
            paramLabel = "R",
            description =
                    "Relation heads the values are re-split into (MiniLMv2); 0: the student's KV heads. Default: ${DEFAULT-VALUE}.")
    int relationHeads;

    @Override
    public Integer call() {
        TrainOptions options;
        try {
            options = options().validate();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        java.io.PrintWriter stdout = spec.commandLine().getOut();
        try (Trainer trainer = Trainer.open(options)) {
            Trainer.Result r = trainer.run();
            stdout.println(String.format(
                    Locale.ROOT,
                    "trained %d steps (%d completion tokens%s); final model: %s",
                    r.steps(),
                    r.trainTokens(),
                    r.skippedSteps() > 0 ? ", " + r.skippedSteps() + " fp16 steps skipped" : "",
                    r.finalModel()));
            if (r.lastEval() != null) {
                stdout.print(r.lastEval().table());
            }
            if (r.lastCrossEval() != null) {
                stdout.print(r.lastCrossEval().table());
            }
            stdout.flush();
        }
        return 0;
    }

    /** The parsed options (paths made absolute so a resumed run compares equal however they were spelled). */
    TrainOptions options() {
        return new TrainOptions(
                student.toAbsolutePath().normalize(),
                absolute(data),
                out.toAbsolutePath().normalize(),
                steps,
                epochs,
                batchTokens,
                gradAccum,
                lr,
                warmupSteps,
                schedule.cliName(),
                minLrRatio,
                weightDecay,
                maxGradNorm,
                loss,
                jsdBeta,
                kdTemperature,
                ceWeight,
                kdWeight,
                tail.cliName(),
                absolute(evalData),
                evalEvery,
                saveEvery,
                seed,
                device,
                precision,
                shuffleBuffer,
                resume,
                teacherOptions());
    }

    /** The online-teacher options, or null without --teacher (then the feature and attention options are refused). */
    private TeacherOptions teacherOptions() {
        if (teacher == null) {
            if (featureLoss != null || attentionLoss != null || valueRelationWeight != 0) {
                throw new IllegalArgumentException((featureLoss != null
                                ? "--feature-loss"
                                : attentionLoss != null ? "--attention-loss" : "--value-relation-weight")
                        + " needs --teacher (the teacher's internals are"
                        + " computed online)");
            }
            return null;
        }
        return new TeacherOptions(
                teacher.toAbsolutePath().normalize(),
                teacherDtype,
                teacherTopK,
                featureLoss,
                featureWeight,
                layerMap,
                attentionLoss,
                attentionWeight,
                attentionLayers,
                valueRelationWeight,
                relationHeads);
    }

    /** Local paths become absolute; URIs with a scheme (hdfs://, s3a://, file://) are kept as given. */
    public static List<String> absolute(List<String> locations) {
        List<String> out = new ArrayList<>();
        for (String l : locations == null ? List.<String>of() : locations) {
            out.add(
                    l.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")
                            ? l
                            : Path.of(l).toAbsolutePath().normalize().toString());
        }
        return out;
    }
}
