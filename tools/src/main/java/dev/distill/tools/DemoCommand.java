package dev.distill.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.cli.CommandLines;
import dev.distill.cli.UsageException;
import dev.distill.data.cli.InspectCommand;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.prompts.Corpus;
import dev.distill.tokenizer.HfTokenizer;
import dev.distill.trainer.EvalCommand;
import dev.distill.trainer.TrainCommand;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `distill demo`: the whole product on a tiny embedded teacher and student, offline. It runs the
 * same commands a user runs on real models (init-model, generate, train, eval), in order.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Build a tiny teacher and student, generate, train and evaluate, end to end, offline.",
            "",
            "Steps: (1) a 'small' teacher (0.9M parameters) is initialised and briefly trained by distill itself on the"
                    + " sample corpus, so that its next-token distributions are peaked; (2) it writes top-k soft labels"
                    + " for the sample prompts (sample mode); (3) a 'tiny' student of the same tokenizer is evaluated,"
                    + " distilled on those labels and evaluated again on held-out prompts, beside the teacher itself.",
            "",
            "The same on real models (see the README): distill generate --teacher TEACHER_DIR --prompts P.jsonl --out"
                    + " RUN; distill train --student STUDENT_DIR --data RUN --out OUT; distill eval --model OUT --data"
                    + " HELD_OUT_RUN.",
        })
public final class DemoCommand implements Callable<Integer> {
    static final String TOKENIZER_RESOURCE = "/dev/distill/tools/demo-tokenizer/";
    static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    @Option(
            names = "--work",
            defaultValue = "distill-demo",
            paramLabel = "DIR",
            description = "Working directory for every output (replaced). Default: ${DEFAULT-VALUE}.")
    Path work;

    @Option(
            names = "--scale",
            defaultValue = "1.0",
            paramLabel = "S",
            description =
                    "Multiplies training steps and generated tokens (the test suite runs 0.25). Default: ${DEFAULT-VALUE}.")
    double scale;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or gpu. Default: ${DEFAULT-VALUE}.")
    String device;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One stage's wall time and throughput, for the summary. */
    record Stage(String name, double seconds, String throughput) {}

    @Override
    public Integer call() throws IOException {
        UsageException.require(scale > 0, "--scale must be > 0, got " + scale);
        Path w = work.toAbsolutePath().normalize();
        Dirs.deleteRecursively(w);
        Files.createDirectories(w);
        Path tokenizer = extractTokenizer(w.resolve("tokenizer"));
        Path[] corpus = splitCorpus(Corpus.samplePath(), w, 250);
        List<Stage> stages = new ArrayList<>();
        int newTokens = Math.max(8, (int) Math.round(48 * scale));

        say("1/6 teacher: init 'small' and pretrain it briefly on the sample corpus (plain CE)");
        InitModelCommand.write(ModelPreset.SMALL, tokenizer, w.resolve("teacher-init"), null, 1);
        Path pretrain = teacherCorpus(Corpus.samplePath(), tokenizer, w.resolve("teacher-corpus.jsonl"));
        run(
                new GenerateCommand(),
                "--teacher",
                w.resolve("teacher-init"),
                "--prompts",
                pretrain,
                "--out",
                w.resolve("teacher-corpus-run"),
                "--mode",
                "score",
                "--top-k",
                "1",
                "--shard-size",
                "1000",
                "--skip-invalid",
                "--device",
                device);
        stages.add(timed(
                "teacher pretraining",
                () -> run(
                        new TrainCommand(),
                        "--student",
                        w.resolve("teacher-init"),
                        "--data",
                        w.resolve("teacher-corpus-run"),
                        "--out",
                        w.resolve("teacher"),
                        "--steps",
                        Math.max(20, (int) Math.round(150 * scale)),
                        "--batch-tokens",
                        2048,
                        "--lr",
                        5e-3,
                        "--warmup-steps",
                        10,
                        "--kd-weight",
                        0,
                        "--ce-weight",
                        1,
                        "--device",
                        device),
                w.resolve("teacher/metrics.jsonl")));

        say("2/6 teacher soft labels: sample completions for 250 training prompts and 50 held-out prompts,"
                + " top-16 at every token");
        stages.add(timed(
                "generate",
                () -> run(
                        new GenerateCommand(),
                        "--teacher",
                        w.resolve("teacher/final"),
                        "--prompts",
                        corpus[0],
                        "--out",
                        w.resolve("soft-labels"),
                        "--mode",
                        "sample",
                        "--top-k",
                        16,
                        "--max-new-tokens",
                        newTokens,
                        "--shard-size",
                        100,
                        "--skip-invalid",
                        "--device",
                        device),
                w.resolve("soft-labels/manifest.json")));
        run(
                new GenerateCommand(),
                "--teacher",
                w.resolve("teacher/final"),
                "--prompts",
                corpus[1],
                "--out",
                w.resolve("held-out"),
                "--mode",
                "sample",
                "--top-k",
                16,
                "--max-new-tokens",
                newTokens,
                "--shard-size",
                100,
                "--skip-invalid",
                "--device",
                device,
                "--seed",
                1);
        run(new InspectCommand(), w.resolve("soft-labels"));

        say("3/6 student: init 'tiny' with the same tokenizer");
        InitModelCommand.write(ModelPreset.TINY, tokenizer, w.resolve("student-init"), null, 2);
        Map<String, JsonNode> evals = new LinkedHashMap<>();
        say("4/6 eval the student before training (held-out prompts)");
        evals.put("student before", eval(w.resolve("student-init"), w.resolve("held-out")));

        say("5/6 distill: train the student on the teacher's top-k (forward KL, tail bucket)");
        stages.add(timed(
                "student training",
                () -> run(
                        new TrainCommand(),
                        "--student",
                        w.resolve("student-init"),
                        "--data",
                        w.resolve("soft-labels"),
                        "--out",
                        w.resolve("student"),
                        "--steps",
                        Math.max(20, (int) Math.round(200 * scale)),
                        "--batch-tokens",
                        2048,
                        "--lr",
                        5e-3,
                        "--warmup-steps",
                        10,
                        "--loss",
                        "forward-kl",
                        "--tail",
                        "bucket",
                        "--eval-data",
                        w.resolve("held-out"),
                        "--eval-every",
                        Math.max(10, (int) Math.round(60 * scale)),
                        "--device",
                        device),
                w.resolve("student/metrics.jsonl")));

        say("6/6 eval the student after training, and the teacher itself");
        evals.put("student after", eval(w.resolve("student/final"), w.resolve("held-out")));
        evals.put("teacher", eval(w.resolve("teacher/final"), w.resolve("held-out")));

        PrintWriter out = spec.commandLine().getOut();
        out.println();
        out.println("distill demo: held-out prompts, against the teacher's top-16 soft labels");
        out.println("| model | KL(teacher || model) | top-1 agreement | CE of teacher tokens |");
        out.println("| --- | --- | --- | --- |");
        // KL over the top-k + tail bucket is >= 0; a rounding-level negative prints as 0
        evals.forEach((name, m) -> out.printf(
                Locale.ROOT,
                "| %s | %.4f | %.3f | %.4f |%n",
                name,
                Math.max(0.0, m.get("kl").asDouble()),
                m.get("top1").asDouble(),
                m.get("ce").asDouble()));
        out.println();
        out.println("| stage | seconds | throughput |");
        out.println("| --- | --- | --- |");
        stages.forEach(s -> out.printf(Locale.ROOT, "| %s | %.1f | %s |%n", s.name(), s.seconds(), s.throughput()));
        out.println();
        out.println("outputs in " + w + ":");
        out.println("  soft-labels/        teacher top-k shards (Parquet) + manifest.json");
        out.println("  student/final/      the distilled student, a Hugging Face model directory");
        out.println("  student/metrics.jsonl, student/metrics.png   training curves");
        out.println("  teacher/final/      the pretrained teacher");
        out.flush();
        return evals.get("student after").get("kl").asDouble()
                        < evals.get("student before").get("kl").asDouble()
                ? 0
                : 1;
    }

    private void say(String line) {
        spec.commandLine().getOut().println("== " + line);
        spec.commandLine().getOut().flush();
    }

    /** Runs a subcommand as the CLI would; a non-zero exit stops the demo naming the command. */
    private static void run(Object command, Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            a[i] = String.valueOf(args[i]);
        }
        CommandLine cli = CommandLines.create(command, "distill");
        int rc = cli.execute(a);
        if (rc != 0) {
            throw new IllegalStateException(
                    "demo step '" + cli.getCommandName() + " " + String.join(" ", a) + "' exited with " + rc);
        }
    }

    /** The eval metrics of a model on a run, as JSON. */
    private static JsonNode eval(Path model, Path data) throws IOException {
        StringWriter sw = new StringWriter();
        CommandLine cli = CommandLines.create(new EvalCommand(), "distill");
        cli.setOut(new PrintWriter(sw));
        if (cli.execute("--model", model.toString(), "--data", data.toString(), "--json") != 0) {
            throw new IllegalStateException("demo step 'eval --model " + model + "' failed");
        }
        return new ObjectMapper().readTree(sw.toString());
    }

    /**
     * Runs a stage and measures it: tokens/s from the run's manifest.json (completion tokens
     * generated) or from a training metrics.jsonl (tokens trained on).
     */
    private static Stage timed(String name, Runnable stage, Path record) throws IOException {
        long t0 = System.nanoTime();
        stage.run();
        double s = (System.nanoTime() - t0) / 1e9;
        ObjectMapper json = new ObjectMapper();
        double tokens = 0;
        String unit;
        if (record.getFileName().toString().equals("manifest.json")) {
            for (JsonNode shard : json.readTree(record.toFile()).get("shards")) {
                tokens += shard.path("completion_tokens").asDouble();
            }
            unit = "generated";
        } else {
            for (String line : Files.readAllLines(record)) {
                JsonNode j = json.readTree(line);
                if (j.has("tokens") && !j.path("eval").asBoolean(false)) {
                    tokens += j.get("tokens").asDouble();
                }
            }
            unit = "trained";
        }
        return new Stage(name, s, String.format(Locale.ROOT, "%.0f tokens %s/s", tokens / s, unit));
    }

    /** The embedded tiny tokenizer (vocabulary 512, ChatML template), written to {@code dir}. */
    public static Path extractTokenizer(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : TOKENIZER_FILES) {
            try (InputStream in = DemoCommand.class.getResourceAsStream(TOKENIZER_RESOURCE + f)) {
                if (in == null) {
                    throw new IllegalStateException("the demo tokenizer is missing from the application: " + f);
                }
                Files.copy(in, dir.resolve(f));
            }
        }
        return dir;
    }

    /** The sample corpus split into the first {@code train} lines and the rest (held out). */
    static Path[] splitCorpus(Path corpus, Path dir, int train) throws IOException {
        List<String> lines = Files.readAllLines(corpus, StandardCharsets.UTF_8);
        Path a = dir.resolve("prompts-train.jsonl");
        Path b = dir.resolve("prompts-held-out.jsonl");
        Files.write(a, lines.subList(0, Math.min(train, lines.size())), StandardCharsets.UTF_8);
        Files.write(b, lines.subList(Math.min(train, lines.size()), lines.size()), StandardCharsets.UTF_8);
        return new Path[] {a, b};
    }

    /**
     * The teacher's pretraining text: every sample conversation rendered with the chat template (and
     * its response, when it has one), as score-mode records {"text": first token, "response": rest}.
     */
    public static Path teacherCorpus(Path corpus, Path tokenizerDir, Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        try (HfTokenizer tok = HfTokenizer.load(tokenizerDir);
                BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
                JsonNode r = json.readTree(line);
                List<Map<String, Object>> messages = new ArrayList<>();
                if (r.has("messages")) {
                    for (JsonNode m : r.get("messages")) {
                        messages.add(Map.of(
                                "role",
                                m.get("role").asText(),
                                "content",
                                m.get("content").asText()));
                    }
                } else {
                    messages.add(Map.of(
                            "role",
                            "user",
                            "content",
                            r.has("prompt")
                                    ? r.get("prompt").asText()
                                    : r.path("text").asText()));
                }
                if (r.has("response")) {
                    messages.add(Map.of(
                            "role", "assistant", "content", r.get("response").asText()));
                }
                String text = tok.renderChat(messages, !r.has("response"));
                int split = text.indexOf('\n') + 1; // "<|im_start|>role\n" | the rest
                ObjectNode rec = json.createObjectNode();
                rec.put("text", text.substring(0, split));
                rec.put("response", text.substring(split));
                w.write(json.writeValueAsString(rec));
                w.newLine();
            }
        }
        return out;
    }
}
