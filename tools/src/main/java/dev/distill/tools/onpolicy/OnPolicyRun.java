package dev.distill.tools.onpolicy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.CommandLines;
import dev.distill.data.CanonicalJson;
import dev.distill.data.ConfigDiff;
import dev.distill.data.Manifest;
import dev.distill.data.RunDirectory;
import dev.distill.model.CausalLM;
import dev.distill.model.Engines;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.Progress;
import dev.distill.prompts.Corpus;
import dev.distill.prompts.PromptSourceOptions;
import dev.distill.tools.Dirs;
import dev.distill.trainer.EvalMetrics;
import dev.distill.trainer.Evaluator;
import dev.distill.trainer.OwnSampleMetrics;
import dev.distill.trainer.TrainCommand;
import dev.distill.trainer.data.SoftLabelData;
import dev.distill.trainer.metrics.MetricsLog;
import dev.distill.trainer.metrics.MetricsPlot;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The rounds of `distill onpolicy`. Round r, in {@code OUT/round-000r/}: (a) {@code samples}: the current student
 * samples completions for the round's prompts ({@code generate --mode sample}); (b) {@code scores}: the teacher scores
 * them ({@code generate --mode score --responses-from samples}); (c) {@code student}: the student trains S steps on the
 * scores ({@code train}, optionally mixed with an offline run); (d) {@code eval.json}: its own-sample reverse KL
 * before and after, top-1 agreement, held-out forward KL. Every stage is resumable: a finished one is recognised by
 * its output (a complete run directory, {@code student/final/}, {@code eval.json}) and never redone, a half-done one is
 * continued by the command that owns it (generate redoes only missing shards, train resumes from its checkpoint).
 */
final class OnPolicyRun {
    static final String CONFIG_FILE = "onpolicy.json";
    static final String FINAL = "final";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Called after each finished stage with its path under OUT (e.g. {@code round-0001/scores}); tests inject failures. */
    static Consumer<String> afterStage = s -> {};

    private final OnPolicyPlan plan;
    private final PrintStream log;
    private final double[] stageSeconds = new double[4];

    OnPolicyRun(OnPolicyPlan plan, PrintStream log) {
        this.plan = plan;
        this.log = log;
    }

    /** What a finished run reports: one eval line per round and where the final model is. */
    record Result(List<JsonNode> rounds, Path finalModel, double[] stageSeconds) {}

    Result run() throws IOException {
        Files.createDirectories(plan.out());
        checkConfig();
        long corpusSize = Corpus.count(plan.prompts(), PromptSourceOptions.defaults());
        if (corpusSize == 0) {
            throw new IllegalArgumentException("--prompts " + plan.prompts() + ": the corpus holds no record");
        }
        Path student = plan.student();
        try (Progress progress = new Progress("onpolicy", 4L * plan.rounds(), "stages", Duration.ofSeconds(30))) {
            for (int r = 1; r <= plan.rounds(); r++) {
                student = round(r, student, corpusSize, progress);
            }
        }
        List<JsonNode> lines = writeMetrics();
        Path fin = plan.out().resolve(FINAL);
        Path tmp = plan.out().resolve("." + FINAL + ".tmp");
        Dirs.deleteRecursively(tmp);
        copyTree(student, tmp);
        Dirs.deleteRecursively(fin);
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        return new Result(lines, fin, stageSeconds);
    }

    /** Runs (or finishes) round {@code r} from {@code student}; returns the round's trained student. */
    private Path round(int r, Path student, long corpusSize, Progress progress) throws IOException {
        Path dir = plan.out().resolve(String.format(Locale.ROOT, "round-%04d", r));
        Files.createDirectories(dir);
        String name = dir.getFileName().toString();
        Path prompts = dir.resolve("prompts.jsonl");
        Path samples = dir.resolve("samples");
        Path scores = dir.resolve("scores");
        Path trained = dir.resolve("student");
        Path eval = dir.resolve("eval.json");
        long seed = plan.seed() + r;

        stage(0, r, "samples", isComplete(samples), () -> {
            long n = RoundPrompts.write(plan.prompts(), corpusSize, r, plan.promptsPerRound(), prompts);
            if (n == 0) {
                throw new IllegalArgumentException(
                        "--prompts " + plan.prompts() + ": round " + r + " has no valid prompt");
            }
            List<String> a = new ArrayList<>(List.of(
                    "--teacher",
                    student.toString(),
                    "--prompts",
                    prompts.toString(),
                    "--out",
                    samples.toString(),
                    "--mode",
                    "sample",
                    "--seed",
                    Long.toString(seed),
                    "--skip-invalid",
                    "--device",
                    plan.device()));
            a.addAll(plan.sampleArgs());
            command(new GenerateCommand(), "generate", a);
        });
        afterStage.accept(name + "/samples");
        progress.advance(1, 0);

        stage(1, r, "scores", isComplete(scores), () -> {
            List<String> a = new ArrayList<>(plan.teacherArgs());
            a.addAll(List.of(
                    "--responses-from",
                    samples.toString(),
                    "--out",
                    scores.toString(),
                    "--mode",
                    "score",
                    "--skip-invalid",
                    "--device",
                    plan.device()));
            a.addAll(plan.scoreArgs());
            command(new GenerateCommand(), "generate", a);
        });
        afterStage.accept(name + "/scores");
        progress.advance(1, 0);

        Path fin = trained.resolve("final");
        stage(2, r, "train", Files.isDirectory(fin), () -> {
            String data = plan.offline() == null
                    ? scores.toString()
                    : scores + ":" + (1 - plan.offlineWeight()) + "," + plan.offline() + ":" + plan.offlineWeight();
            List<String> a = new ArrayList<>(List.of(
                    "--student",
                    student.toString(),
                    "--data",
                    data,
                    "--out",
                    trained.toString(),
                    "--steps",
                    Integer.toString(plan.stepsPerRound()),
                    "--seed",
                    Long.toString(seed),
                    "--device",
                    plan.device(),
                    "--resume"));
            a.addAll(plan.trainArgs());
            command(new TrainCommand(), "train", a);
        });
        afterStage.accept(name + "/student");
        progress.advance(1, 0);

        stage(
                3,
                r,
                "eval",
                Files.exists(eval),
                () -> writeAtomically(eval, evaluate(r, student, fin, scores, trained)));
        afterStage.accept(name + "/eval");
        progress.advance(1, 0);
        JsonNode line = JSON.readTree(eval.toFile());
        log.printf(
                Locale.ROOT,
                "onpolicy: round %d/%d: reverse KL on own samples %.4f -> %.4f (sampled estimate)," + " top-1 %.3f%s%n",
                r,
                plan.rounds(),
                line.path("before").path("sampled_reverse_kl").asDouble(),
                line.path("after").path("sampled_reverse_kl").asDouble(),
                line.path("after").path("top1").asDouble(),
                line.has("held_out")
                        ? String.format(
                                Locale.ROOT,
                                ", held-out KL %.4f",
                                line.get("held_out").path("kl").asDouble())
                        : "");
        writeMetrics();
        return fin;
    }

    /** A stage body that may throw IOException. */
    private interface Stage {
        void run() throws IOException;
    }

    private void stage(int kind, int r, String name, boolean done, Stage body) throws IOException {
        if (done) {
            log.printf(Locale.ROOT, "onpolicy: round %d/%d %s: done already%n", r, plan.rounds(), name);
            return;
        }
        log.printf(Locale.ROOT, "onpolicy: round %d/%d %s%n", r, plan.rounds(), name);
        long t0 = System.nanoTime();
        body.run();
        stageSeconds[kind] += (System.nanoTime() - t0) / 1e9;
    }

    /** The eval line of round r: the student before and after on the round's own samples, and on held-out data. */
    private ObjectNode evaluate(int r, Path before, Path after, Path scores, Path trained) {
        Device device = Engines.device(plan.device());
        SoftLabelData own = SoftLabelData.open(List.of(scores.toString()), "round " + r + " scores");
        ObjectNode line = JSON.createObjectNode();
        line.put("round", r);
        line.put("samples", own.rows());
        OwnSampleMetrics b;
        OwnSampleMetrics a;
        EvalMetrics held = null;
        // both checkpoints are only evaluated here, never trained: packed linear layers (CPU float32)
        try (CausalLM m = CausalLM.load(before, DataType.FLOAT32, device)) {
            m.packForInference();
            b = Evaluator.ownSamples(m, own, plan.evalBatchTokens());
        }
        try (CausalLM m = CausalLM.load(after, DataType.FLOAT32, device)) {
            m.packForInference();
            a = Evaluator.ownSamples(m, own, plan.evalBatchTokens());
            if (!plan.evalData().isEmpty()) {
                held = Evaluator.evaluate(
                        m,
                        SoftLabelData.open(plan.evalData(), "--eval-data"),
                        plan.evalBatchTokens(),
                        Long.MAX_VALUE,
                        "student");
            }
        }
        line.put("sample_tokens", a.tokens());
        line.set("before", b.toJson(""));
        line.set("after", a.toJson(""));
        if (held != null) {
            line.set("held_out", held.toJson());
        }
        double loss = 0;
        int steps = 0;
        for (JsonNode l : MetricsLog.read(trained.resolve(MetricsLog.FILE))) {
            if (!l.path("eval").asBoolean(false) && l.path("loss").isNumber()) {
                loss += l.get("loss").asDouble();
                steps++;
            }
        }
        line.put("train_loss", steps == 0 ? Double.NaN : loss / steps);
        line.put("train_steps", steps);
        return line;
    }

    /** OUT/metrics.jsonl (a line per finished round) and OUT/metrics.png, rebuilt from the rounds' eval.json. */
    private List<JsonNode> writeMetrics() throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (int r = 1; r <= plan.rounds(); r++) {
            Path eval = plan.out().resolve(String.format(Locale.ROOT, "round-%04d/eval.json", r));
            if (Files.exists(eval)) {
                lines.add(JSON.readTree(eval.toFile()));
            }
        }
        StringBuilder text = new StringBuilder();
        List<double[]> rkl = new ArrayList<>();
        List<double[]> bottom = new ArrayList<>();
        for (JsonNode l : lines) {
            text.append(JSON.writeValueAsString(l)).append('\n');
            int r = l.get("round").asInt();
            // point x: the student after x rounds on the fresh samples it drew; the last one on the last round's
            // samples
            rkl.add(new double[] {
                r - 1, l.path("before").path("sampled_reverse_kl").asDouble()
            });
            if (r == plan.rounds()) {
                rkl.add(new double[] {
                    r, l.path("after").path("sampled_reverse_kl").asDouble()
                });
            }
            bottom.add(new double[] {
                r,
                l.has("held_out")
                        ? l.get("held_out").path("kl").asDouble()
                        : l.path("after").path("top1").asDouble()
            });
        }
        Path metrics = plan.out().resolve(MetricsLog.FILE);
        Path tmp = plan.out().resolve("." + MetricsLog.FILE + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, metrics, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        boolean held = plan.evalData().isEmpty();
        MetricsPlot.write(
                plan.out().resolve(MetricsPlot.FILE),
                "round",
                new MetricsPlot.Series(
                        "Own samples: KL(student || teacher) after x rounds (sampled estimate)",
                        "reverse KL per token (nats)",
                        new Color(0x1f77b4),
                        rkl),
                held
                        ? new MetricsPlot.Series(
                                "Own samples: top-1 agreement with the teacher",
                                "fraction of positions",
                                new Color(0x2ca02c),
                                bottom)
                        : new MetricsPlot.Series(
                                "Held-out: KL(teacher || student)",
                                "KL per token (nats)",
                                new Color(0xd62728),
                                bottom));
        return lines;
    }

    /** Records the configuration in OUT/onpolicy.json, or checks it against the recorded one. */
    private void checkConfig() throws IOException {
        Path file = plan.out().resolve(CONFIG_FILE);
        ObjectNode now = CanonicalJson.reparsed(plan.config());
        if (Files.exists(file)) {
            JsonNode run = JSON.readTree(file.toFile()).get("config");
            List<String> diffs = ConfigDiff.differences(run, now);
            if (!diffs.isEmpty()) {
                throw new IllegalArgumentException(
                        "--out " + plan.out() + " holds an on-policy run made with other" + " options: "
                                + String.join("; ", diffs) + ". Rerun with the original options, or use a new --out.");
            }
            return;
        }
        ObjectNode o = JSON.createObjectNode();
        o.set("config", now);
        o.put("config_hash", CanonicalJson.sha256(now));
        writeAtomically(file, o);
    }

    private static boolean isComplete(Path run) {
        if (!Files.exists(run.resolve(RunDirectory.MANIFEST))) {
            return false;
        }
        try {
            return RunDirectory.existing(run.toString()).isComplete();
        } catch (IOException e) {
            throw new UncheckedIOException(run + ": " + e.getMessage(), e);
        }
    }

    /** Runs a subcommand in this process; its failure surfaces with the subcommand's own message. */
    private static void command(Object command, String name, List<String> args) {
        CommandLine cli = CommandLines.create(command, "distill"); // the CLI's parsing rules (enum values any case)
        RuntimeException[] failure = new RuntimeException[1];
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            failure[0] = e instanceof RuntimeException re
                    ? re
                    : e instanceof IOException io
                            ? new UncheckedIOException(io.getMessage(), io)
                            : new IllegalStateException(e.getMessage(), e);
            return 1;
        });
        int rc = cli.execute(args.toArray(String[]::new));
        if (failure[0] != null) {
            throw failure[0];
        }
        if (rc != 0) {
            throw new IllegalStateException("'distill " + name + " " + String.join(" ", args) + "' exited with " + rc);
        }
    }

    private static void writeAtomically(Path file, JsonNode node) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.write(tmp, Manifest.pretty(node).getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
