package dev.distill.tools.onpolicy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.UsageException;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.trainer.TrainCommand;
import dev.distill.trainer.TrainOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** `distill onpolicy`: on-policy distillation in resumable rounds (student samples, teacher scores, student trains). */
@Command(
        name = "onpolicy",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "On-policy distillation in rounds: the student samples completions, the teacher scores every token of them,",
            "the student trains on its own samples graded by the teacher, then is evaluated. Offline and resumable:",
            "rerunning the same command continues where it stopped; a changed option is refused, naming it.",
            "Layout: OUT/round-NNNN/{prompts.jsonl,samples,scores,student,eval.json}, OUT/metrics.jsonl,"
                    + " OUT/metrics.png, OUT/final (a Hugging Face model directory).",
        })
public final class OnPolicyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--teacher", paramLabel = "DIR", description = "The teacher's model directory (or --teacher-url).")
    Path teacher;

    @Option(
            names = "--teacher-url",
            paramLabel = "URL",
            description =
                    "An OpenAI-compatible server scoring for the teacher (vLLM, distill serve), e.g. http://host:8000/v1.")
    String teacherUrl;

    @Option(
            names = "--teacher-model",
            paramLabel = "NAME",
            description = "The model's name on the --teacher-url server.")
    String teacherModel;

    @Option(
            names = "--vocab-size",
            paramLabel = "N",
            description = "The remote teacher's vocabulary size (vLLM does not report it).")
    Integer vocabSize;

    @Option(
            names = "--context-length",
            paramLabel = "N",
            description = "The remote teacher's context length, if not reported.")
    Integer contextLength;

    @Option(
            names = "--concurrency",
            defaultValue = "16",
            description = "Requests in flight to the server. Default: ${DEFAULT-VALUE}.")
    int concurrency;

    @Option(
            names = "--api-key-file",
            paramLabel = "FILE",
            description = "The server's API key file (else DISTILL_API_KEY).")
    Path apiKeyFile;

    @Option(
            names = "--student",
            required = true,
            paramLabel = "DIR",
            description = "The student's model directory (same tokenizer as the teacher).")
    Path student;

    @Option(
            names = "--prompts",
            required = true,
            paramLabel = "FILE",
            description = "Prompt corpus (as for generate); walked in order, wrapping, --prompts-per-round a round.")
    Path prompts;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The run's directory.")
    Path out;

    @Option(
            names = "--rounds",
            required = true,
            paramLabel = "R",
            description = "Rounds (may grow on a rerun: more rounds continue the run).")
    int rounds;

    @Option(
            names = "--prompts-per-round",
            required = true,
            paramLabel = "N",
            description = "Prompts the student samples per round.")
    int promptsPerRound;

    @Option(names = "--steps-per-round", required = true, paramLabel = "S", description = "Optimizer steps per round.")
    int stepsPerRound;

    // sampling (the student) and scoring (the teacher)
    @Option(
            names = "--temperature",
            defaultValue = "1.0",
            description = "The student's sampling temperature. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(
            names = "--top-p",
            defaultValue = "1.0",
            description = "The student's nucleus mass. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(
            names = "--max-new-tokens",
            defaultValue = "256",
            description = "Longest student completion. Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(
            names = "--samples-per-prompt",
            defaultValue = "1",
            description = "Student completions per prompt. Default: ${DEFAULT-VALUE}.")
    int samplesPerPrompt;

    @Option(
            names = "--logits",
            paramLabel = "SPEC",
            converter = GenerateCommand.LogitsConverter.class,
            description = "What the teacher's scoring stores at each position, as generate's --logits: top-k:K,"
                    + " top-p:P[:KMAX] or sample:N[:T] (sampled labels train --loss forward-kl or sampled-rkl)."
                    + " Default: top-k:20.")
    LogitsSpec logits;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            description = "Teacher log-probs kept per position when scoring: the same as --logits top-k:K.")
    Integer topK;

    @Option(
            names = "--encoding",
            paramLabel = "plain|compact",
            converter = GenerateCommand.EncodingConverter.class,
            description = "How the scores' label entries are stored, as generate's --encoding. Default: plain.")
    LabelEncoding encoding;

    @Option(
            names = "--max-batch-tokens",
            paramLabel = "N",
            description = "Token budget of a generate batch (sampling and scoring).")
    Integer maxBatchTokens;

    @Option(
            names = "--no-chat-template",
            negatable = false,
            description = "Feed {\"prompt\"} records raw, not through the chat template.")
    boolean noChatTemplate;

    // training
    @Option(
            names = "--loss",
            defaultValue = "jsd",
            paramLabel = "NAME",
            description =
                    "jsd or reverse-kl over the teacher's top-k (GKD), sampled-rkl (per-token reverse KL on the"
                            + " sampled tokens: needs only the teacher's log-prob of each token), forward-kl, tvd. Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(
            names = {"--jsd-beta", "--beta"},
            defaultValue = "0.5",
            description = "jsd only: the teacher's weight. Default: ${DEFAULT-VALUE}.")
    double jsdBeta;

    @Option(
            names = "--tail",
            defaultValue = "bucket",
            description = "zero or bucket (top-k losses). Default: ${DEFAULT-VALUE}.")
    String tail;

    @Option(names = "--lr", defaultValue = "1e-5", description = "Learning rate. Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(
            names = "--schedule",
            defaultValue = "constant",
            description = "cosine, linear or constant, within each round. Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(
            names = "--warmup-steps",
            defaultValue = "0",
            description = "Warmup steps of each round. Default: ${DEFAULT-VALUE}.")
    long warmupSteps;

    @Option(
            names = "--batch-tokens",
            defaultValue = "4096",
            description = "Tokens per micro-batch (and per eval batch). Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Option(
            names = "--grad-accum",
            defaultValue = "1",
            description = "Micro-batches per step. Default: ${DEFAULT-VALUE}.")
    int gradAccum;

    @Option(
            names = "--weight-decay",
            defaultValue = "0.0",
            description = "AdamW weight decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay;

    @Option(
            names = "--max-grad-norm",
            defaultValue = "1.0",
            description = "Gradient clipping. Default: ${DEFAULT-VALUE}.")
    double maxGradNorm;

    @Option(
            names = "--ce-weight",
            defaultValue = "0.0",
            description = "Cross-entropy on the sampled tokens (rarely wanted on-policy). Default: ${DEFAULT-VALUE}.")
    double ceWeight;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or fp16. Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(
            names = "--save-every",
            defaultValue = "0",
            description =
                    "Checkpoint every N steps within a round (a killed round resumes there). Default: ${DEFAULT-VALUE}.")
    long saveEvery;

    @Option(
            names = "--offline-data",
            paramLabel = "DIR",
            description = "An offline (teacher-written) run mixed into every round's training.")
    String offlineData;

    @Option(
            names = "--offline-weight",
            defaultValue = "0.3",
            description = "Share of --offline-data rows in each round's training. Default: ${DEFAULT-VALUE}.")
    double offlineWeight;

    @Option(
            names = "--eval-data",
            split = ",",
            paramLabel = "DIR",
            description = "Held-out soft-label runs: each round reports the student's forward KL on them.")
    List<String> evalData = new ArrayList<>();

    @Option(
            names = "--seed",
            defaultValue = "0",
            description = "Seed of sampling and data order (round r uses seed + r). Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(
            names = "--device",
            defaultValue = "auto",
            description = "auto, cpu, gpu or gpu:N. Default: ${DEFAULT-VALUE}.")
    String device;

    @Override
    public Integer call() throws IOException {
        OnPolicyPlan plan = plan();
        long t0 = System.nanoTime();
        OnPolicyRun.Result r = new OnPolicyRun(plan, System.err).run();
        PrintWriter o = spec.commandLine().getOut();
        o.println();
        o.println("distill onpolicy: " + plan.rounds() + " rounds, " + plan.promptsPerRound() + " prompts and "
                + plan.stepsPerRound()
                + " steps a round; KL(student || teacher) in nats per token on the round's samples"
                + " (drawn by the student before the round)");
        o.println("| round | samples | tokens | sampled KL before | sampled KL after | top-k KL before | top-k KL after"
                + " | top-1 after | train loss | held-out KL |");
        o.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for (var l : r.rounds()) {
            o.printf(
                    Locale.ROOT,
                    "| %d | %d | %d | %.4f | %.4f | %.4f | %.4f | %.3f | %.4f | %s |%n",
                    l.get("round").asInt(),
                    l.get("samples").asLong(),
                    l.get("sample_tokens").asLong(),
                    l.get("before").get("sampled_reverse_kl").asDouble(),
                    l.get("after").get("sampled_reverse_kl").asDouble(),
                    l.get("before").get("reverse_kl").asDouble(),
                    l.get("after").get("reverse_kl").asDouble(),
                    l.get("after").get("top1").asDouble(),
                    l.get("train_loss").asDouble(),
                    l.has("held_out")
                            ? String.format(
                                    Locale.ROOT,
                                    "%.4f",
                                    l.get("held_out").get("kl").asDouble())
                            : "-");
        }
        double[] s = r.stageSeconds();
        o.printf(
                Locale.ROOT,
                "this invocation: %.1f s (sampling %.1f, scoring %.1f, training %.1f, eval %.1f)%n",
                (System.nanoTime() - t0) / 1e9,
                s[0],
                s[1],
                s[2],
                s[3]);
        o.println("final student: " + r.finalModel() + "; per-round metrics: "
                + plan.out().resolve("metrics.jsonl") + ", " + plan.out().resolve("metrics.png"));
        o.flush();
        return 0;
    }

    /** The options, validated, as the stages' arguments and the recorded configuration. */
    OnPolicyPlan plan() throws IOException {
        if ((teacher == null) == (teacherUrl == null)) {
            throw new UsageException("give the teacher: --teacher DIR or --teacher-url URL (one of them)");
        }
        positive(rounds, "--rounds");
        positive(promptsPerRound, "--prompts-per-round");
        positive(stepsPerRound, "--steps-per-round");
        if (offlineData != null && !(offlineWeight > 0 && offlineWeight < 1)) {
            throw new UsageException("--offline-weight: expected a share in (0, 1), got " + offlineWeight);
        }
        if (!(temperature > 0)) {
            throw new UsageException("--temperature: the student samples, expected > 0, got " + temperature);
        }
        if (!java.nio.file.Files.isRegularFile(prompts)) {
            throw new UsageException("--prompts " + prompts + ": no such file");
        }
        Path studentDir = student.toAbsolutePath().normalize();
        List<String> teacherArgs = new ArrayList<>();
        if (teacher != null) {
            teacherArgs.addAll(
                    List.of("--teacher", teacher.toAbsolutePath().normalize().toString()));
        } else {
            teacherArgs.addAll(List.of(
                    "--teacher-url",
                    teacherUrl,
                    "--tokenizer",
                    studentDir.toString(),
                    "--concurrency",
                    Integer.toString(concurrency)));
            optional(teacherArgs, "--teacher-model", teacherModel);
            optional(teacherArgs, "--vocab-size", vocabSize);
            optional(teacherArgs, "--context-length", contextLength);
            optional(teacherArgs, "--api-key-file", apiKeyFile);
        }
        List<String> sample = new ArrayList<>(List.of(
                "--top-k",
                "1",
                "--temperature",
                Float.toString(temperature),
                "--top-p",
                Float.toString(topP),
                "--max-new-tokens",
                Integer.toString(maxNewTokens),
                "--samples-per-prompt",
                Integer.toString(samplesPerPrompt),
                "--shard-size",
                Integer.toString(promptsPerRound)));
        if (noChatTemplate) {
            sample.add("--no-chat-template");
        }
        LogitsSpec scoring = LogitsSpec.fromOptions(logits, topK);
        List<String> score = new ArrayList<>(
                scoring.kind() == LogitsSpec.Kind.TOP_K
                        ? List.of("--top-k", Integer.toString(scoring.size())) // as runs before --logits recorded it
                        : List.of("--logits", scoring.toString()));
        UsageException.require(
                teacherUrl == null || !scoring.sampled(),
                "--logits " + scoring + ": " + GenerateSpec.SAMPLE_NEEDS_LOCAL);
        if (encoding == LabelEncoding.COMPACT) {
            score.addAll(List.of("--encoding", encoding.spelling()));
        }
        try {
            // the trainer's own check, before the first round rather than at its training stage
            TrainOptions.objective(loss, tail, 1.0, jsdBeta, 1.0, ceWeight).requireSupports(scoring);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        optional(sample, "--max-batch-tokens", maxBatchTokens);
        optional(score, "--max-batch-tokens", maxBatchTokens);
        List<String> train = new ArrayList<>(List.of(
                "--loss",
                loss,
                "--jsd-beta",
                Double.toString(jsdBeta),
                "--tail",
                tail,
                "--lr",
                Double.toString(lr),
                "--schedule",
                schedule,
                "--warmup-steps",
                Long.toString(warmupSteps),
                "--batch-tokens",
                Integer.toString(batchTokens),
                "--grad-accum",
                Integer.toString(gradAccum),
                "--weight-decay",
                Double.toString(weightDecay),
                "--max-grad-norm",
                Double.toString(maxGradNorm),
                "--ce-weight",
                Double.toString(ceWeight),
                "--precision",
                precision,
                "--save-every",
                Long.toString(saveEvery)));
        String offline = offlineData == null
                ? null
                : TrainCommand.absolute(List.of(offlineData)).get(0);
        List<String> eval = TrainCommand.absolute(evalData);

        ObjectNode c = new ObjectMapper().createObjectNode();
        c.set("teacher", options(teacherArgs));
        c.put("student", studentDir.toString());
        c.put("prompts", prompts.toAbsolutePath().normalize().toString());
        c.put("prompts_sha256", dev.distill.prompts.Corpus.sha256(prompts));
        c.put("prompts_per_round", promptsPerRound);
        c.put("steps_per_round", stepsPerRound);
        c.put("seed", seed);
        c.set("sampling", options(sample));
        c.set("scoring", options(score));
        c.set("training", options(train));
        c.put("offline_data", offline == null ? "none" : offline + ":" + offlineWeight);
        c.put("eval_data", String.join(",", eval));
        return new OnPolicyPlan(
                out.toAbsolutePath().normalize(),
                studentDir,
                prompts.toAbsolutePath().normalize(),
                rounds,
                promptsPerRound,
                stepsPerRound,
                seed,
                device,
                batchTokens,
                teacherArgs,
                sample,
                score,
                train,
                offline,
                offlineWeight,
                eval,
                c);
    }

    /** {@code --name value} pairs (and lone flags) as a JSON object, so a changed option is named on resume. */
    private static ObjectNode options(List<String> args) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        for (int i = 0; i < args.size(); i++) {
            String name = args.get(i).substring(2);
            if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                o.put(name, args.get(++i));
            } else {
                o.put(name, true);
            }
        }
        return o;
    }

    private static void positive(long v, String name) {
        if (v < 1) {
            throw new UsageException(name + ": expected a positive number, got " + v);
        }
    }

    private static void optional(List<String> args, String name, Object value) {
        if (value != null) {
            args.addAll(List.of(name, value.toString()));
        }
    }
}
