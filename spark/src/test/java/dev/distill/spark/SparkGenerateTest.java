package dev.distill.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.RunDirectory;
import dev.distill.data.WorkerLock;
import dev.distill.model.CausalLM;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.GenerateSpec;
import dev.distill.pipeline.LocalTeacher;
import dev.distill.pipeline.RunInputs;
import dev.distill.pipeline.serve.CompletionServer;
import dev.distill.testing.CliRun;
import dev.distill.testing.RepoRoot;
import dev.distill.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * `distill-spark generate` in local mode on the tiny llama fixture against `distill generate` with the same options:
 * the same files, byte for byte, also after a retried task, a stopped and resubmitted job, and duplicate attempts.
 */
class SparkGenerateTest {
    @TempDir
    static Path tmp;

    static Path corpus;
    static Path reference;
    static String referenceSummary;

    @BeforeAll
    static void distillGenerate() throws IOException {
        // log4j2 binds its console to the System.err of its first use: make that the real one, not a capture.
        LoggerFactory.getLogger(SparkGenerateTest.class).info("reference run: distill generate");
        corpus = tmp.resolve("corpus.jsonl");
        Files.write(
                corpus,
                List.of(
                        "{\"prompt\": \"What is a prime number?\"}",
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a color.\"}]}",
                        "{\"text\": \"Once upon a time\"}",
                        "{\"prompt\": \"broken json",
                        "{\"prompt\": \"Write a haiku about rain.\"}",
                        "{\"prompt\": \"Explain recursion in one sentence.\"}",
                        "{\"prompt\": \"Tell me a fact about the sea.\"}",
                        "{\"prompt\": \"Why is the sky blue?\"}"));
        reference = tmp.resolve("reference");
        CliRun r = CliRun.of(new GenerateCommand(), args(reference));
        assertEquals(0, r.exitCode(), r.err());
        referenceSummary = r.out();
        assertTrue(referenceSummary.contains("shards: 3/3 committed (run complete)"), referenceSummary);
    }

    static List<String> args(Path out) {
        Path root = RepoRoot.path();
        return new ArrayList<>(List.of(
                "--teacher",
                root.resolve("fixtures/models/llama").toString(),
                "--tokenizer",
                root.resolve("fixtures/tokenizers/tiny").toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--mode",
                "sample",
                "--top-k",
                "5",
                "--max-new-tokens",
                "12",
                "--shard-size",
                "3",
                "--seed",
                "3",
                "--device",
                "cpu",
                "--skip-invalid"));
    }

    /** `distill-spark generate --master MASTER <args>`, with the test hook failing the first attempt of {@code fail}. */
    static CliRun sparkGenerate(String master, String fail, List<String> args) {
        List<String> cli = new ArrayList<>(List.of("generate", "--master", master));
        cli.addAll(args);
        if (fail != null) {
            System.setProperty(InjectedFailure.CONF, fail);
        }
        try {
            return CliRun.capture(() -> SparkMain.run(cli.toArray(String[]::new)));
        } finally {
            System.clearProperty(InjectedFailure.CONF);
        }
    }

    @Test
    void aSparkRunWritesTheBytesOfDistillGenerate() throws Exception {
        Path out = tmp.resolve("spark");
        CliRun r = sparkGenerate("local[2]", null, args(out));
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(files(reference), files(out));
        assertTrue(r.out().contains("shards: 3/3 committed (run complete)"), r.out());
        assertTrue(r.out().contains("this process: 8 prompts"), r.out());
        assertEquals(skipLine(referenceSummary), skipLine(r.out()));
        assertTrue(r.out().contains("spark: 3 shard tasks, 0 retried after a failure"), r.out());
        assertEquals(1, TeacherCache.size(), "one teacher per executor JVM, whatever the number of tasks");
    }

    @Test
    void aTaskThatFailsOnceIsRetriedToTheSameBytes() throws Exception {
        Path out = tmp.resolve("retried");
        CliRun r = sparkGenerate("local[2,2]", "1", args(out));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("spark: 3 shard tasks, 1 retried after a failure"), r.out());
        assertEquals(files(reference), files(out));
    }

    @Test
    void aStoppedJobResubmittedGeneratesOnlyTheMissingShards() throws Exception {
        Path out = tmp.resolve("stopped");
        // local[1]: one task at a time in shard order, no retries; the last shard fails and the job stops.
        CliRun stopped = sparkGenerate("local[1]", "2", args(out));
        assertEquals(1, stopped.exitCode());
        assertEquals(
                "distill-spark generate: shard 2 (prompts 6..7): injected failure (" + InjectedFailure.CONF
                        + "): first attempt at shard 2",
                stopped.err().lines().reduce((a, b) -> b).orElse(""),
                stopped.err());
        assertEquals(List.of("part-00000.parquet", "part-00001.parquet"), parts(out));
        JsonNode shards = new ObjectMapper()
                .readTree(out.resolve("manifest.json").toFile())
                .get("shards");
        assertEquals(List.of("complete", "complete", "pending"), shards.findValuesAsText("status"));
        BasicFileAttributes first = Files.readAttributes(out.resolve("part-00000.parquet"), BasicFileAttributes.class);

        CliRun resumed = sparkGenerate("local[2]", null, args(out));
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.out().contains("spark: 1 shard tasks"), resumed.out());
        assertTrue(resumed.out().contains("this process: 2 prompts"), resumed.out());
        BasicFileAttributes after = Files.readAttributes(out.resolve("part-00000.parquet"), BasicFileAttributes.class);
        assertEquals(first.fileKey(), after.fileKey());
        assertEquals(first.lastModifiedTime(), after.lastModifiedTime());
        assertEquals(files(reference), files(out));

        CliRun again = sparkGenerate("local[2]", null, args(out));
        assertEquals(0, again.exitCode(), again.err());
        assertTrue(again.out().contains("spark: 0 shard tasks"), again.out());
        List<String> changed = args(out);
        changed.set(changed.indexOf("--top-k") + 1, "7");
        CliRun refused = sparkGenerate("local[2]", null, changed);
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("top_k: 5 (run) vs 7 (now)"), refused.err());
    }

    @Test
    void aRemoteTeacherRunWritesTheBytesOfDistillGenerateWithTheSameServer() throws Exception {
        Path root = RepoRoot.path();
        try (LocalTeacher teacher = new LocalTeacher(
                        CausalLM.load(root.resolve("fixtures/models/llama"), DataType.FLOAT32, Device.cpu()));
                HfTokenizer tokenizer = HfTokenizer.load(root.resolve("fixtures/tokenizers/tiny"));
                CompletionServer server = CompletionServer.start(
                        teacher, tokenizer, new CompletionServer.Settings("tiny-llama", "127.0.0.1", 0, 4096, null))) {
            Path single = tmp.resolve("remote-single");
            Path spark = tmp.resolve("remote-spark");
            CliRun one = CliRun.of(new GenerateCommand(), remoteArgs(server.baseUrl(), single));
            assertEquals(0, one.exitCode(), one.err());
            // One task and one request at a time: the server then batches exactly as for `distill generate` (concurrent
            // requests from several tasks share its batches, which moves log-probs by ~1e-5).
            CliRun r = sparkGenerate("local[1]", null, remoteArgs(server.baseUrl(), spark));
            assertEquals(0, r.exitCode(), r.err());
            assertTrue(r.out().contains("spark: 3 shard tasks"), r.out());
            assertEquals(files(single), files(spark));
        }
    }

    @Test
    void chatTemplateOptionsReachTheTasksAndWriteTheBytesOfDistillGenerate() throws Exception {
        Path template = tmp.resolve("tagged.jinja");
        Files.writeString(
                template,
                "{%- for m in messages %}{{ '[' + m.role + '] ' + m.content + ' ' + tag + '\\n' }}"
                        + "{%- endfor %}{%- if add_generation_prompt %}{{ '[assistant]\\n' }}{%- endif %}");
        List<String> options =
                List.of("--chat-template", template.toString(), "--chat-template-kwargs", "{\"tag\": \"#1\"}");
        Path single = tmp.resolve("templated-single");
        Path spark = tmp.resolve("templated-spark");
        List<String> singleArgs = args(single);
        singleArgs.addAll(options);
        CliRun one = CliRun.of(new GenerateCommand(), singleArgs);
        assertEquals(0, one.exitCode(), one.err());
        List<String> sparkArgs = args(spark);
        sparkArgs.addAll(options);
        CliRun r = sparkGenerate("local[2]", null, sparkArgs);
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(files(single), files(spark));
        assertNotEquals(files(reference).get("part-00000.parquet"), files(spark).get("part-00000.parquet"));

        List<String> shadowing = args(tmp.resolve("never"));
        shadowing.addAll(List.of("--chat-template-kwargs", "{\"eos_token\": \"x\"}"));
        CliRun refused = sparkGenerate("local[1]", null, shadowing);
        assertEquals(2, refused.exitCode(), refused.err());
        assertTrue(
                refused.err()
                        .contains("--chat-template-kwargs: chat template kwarg 'eos_token' would shadow the"
                                + " tokenizer's special token eos_token ('<|im_end|>')"),
                refused.err());
        assertFalse(Files.exists(tmp.resolve("never")));
    }

    static List<String> remoteArgs(String url, Path out) {
        List<String> a = args(out);
        a.subList(0, 2).clear(); // --teacher DIR
        a.addAll(List.of("--teacher-url", url, "--teacher-model", "tiny-llama", "--concurrency", "1"));
        return a;
    }

    @Test
    void aMalformedLineFailsTheJobNamingTheShardFileAndLine() throws Exception {
        List<String> strict = args(tmp.resolve("strict"));
        strict.remove("--skip-invalid");
        CliRun r = sparkGenerate("local[2]", null, strict);
        assertEquals(1, r.exitCode());
        String last = r.err().lines().reduce((a, b) -> b).orElse("");
        assertTrue(
                last.startsWith("distill-spark generate: shard 1 (prompts 3..5): " + corpus + ":4: malformed_json: "),
                r.err());
    }

    @Test
    void twoAttemptsAtTheSameShardLeaveOneFile() throws Exception {
        Path out = tmp.resolve("twice");
        GenerateArgs args = new GenerateArgs(args(out));
        GenerateSpec spec = args.spec();
        RunInputs inputs;
        try (HfTokenizer tokenizer = HfTokenizer.load(spec.tokenizer())) {
            inputs = RunInputs.resolve(spec, DataType.FLOAT32, tokenizer);
        }
        RunDirectory run = inputs.open(spec);
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("two attempts");
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            SparkGenerate.Result r = SparkGenerate.runShards(jsc, args, inputs, run, List.of(0, 0));
            assertEquals(2, r.tasks());
        }
        assertEquals(List.of("part-00000.parquet"), parts(out));
        assertEquals(files(reference).get("part-00000.parquet"), files(out).get("part-00000.parquet"));
        try (Stream<Path> temp = Files.list(out.resolve(RunDirectory.TMP_DIR))) {
            assertEquals(List.of(), temp.toList(), "the losing attempt's temporary file is deleted");
        }
        assertFalse(Files.exists(out.resolve("part-00001.parquet")));
    }

    /**
     * Every file of a run directory (relative path) with its SHA-256, less the worker locks that a {@code distill
     * generate} process holds while it runs (Spark's driver coordinates its tasks and takes none).
     */
    static Map<String, String> files(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile)
                    .filter(f -> !dir.relativize(f).startsWith(WorkerLock.LOCK_DIR))
                    .toList()) {
                out.put(dir.relativize(f).toString(), sha256(f));
            }
        }
        return out;
    }

    static List<String> parts(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("part-"))
                    .sorted()
                    .toList();
        }
    }

    static String skipLine(String summary) {
        return summary.lines().filter(l -> l.contains("skipped")).findFirst().orElse("(none)");
    }

    static String sha256(Path f) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
