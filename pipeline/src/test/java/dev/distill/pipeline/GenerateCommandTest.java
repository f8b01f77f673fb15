package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.FullDiskFileSystem;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.cli.ValidateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `distill generate` end to end on the tiny llama fixture and the tiny tokenizer. */
class GenerateCommandTest {
    @TempDir
    Path tmp;

    Path corpus(String... lines) throws IOException {
        return Fixtures.corpus(tmp, lines);
    }

    Path mixedCorpus() throws IOException {
        return corpus(
                "{\"prompt\": \"What is a prime number?\"}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Name a color.\"}]}",
                "{\"text\": \"Once upon a time\"}",
                "{\"prompt\": \"broken json",
                "{\"prompt\": \"\"}",
                "{\"prompt\": \"Write a haiku about rain.\"}",
                "{\"prompt\": \"Explain recursion in one sentence.\"}");
    }

    static List<SoftLabelRow> rows(Path runDir) throws IOException {
        List<SoftLabelRow> all = new ArrayList<>();
        List<Path> parts;
        try (Stream<Path> s = Files.list(runDir)) {
            parts = s.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .sorted()
                    .toList();
        }
        for (Path p : parts) {
            try (ShardReader r = ShardReader.open(p.toString())) {
                r.forEach(all::add);
            }
        }
        return all;
    }

    static JsonNode manifest(Path runDir) throws IOException {
        return new ObjectMapper().readTree(runDir.resolve("manifest.json").toFile());
    }

    @Test
    void generatesValidShardsSkippingAndCountingBadPrompts() throws Exception {
        Path out = tmp.resolve("run");
        String[] r = Fixtures.generate(Fixtures.sampleRunArgs(mixedCorpus(), out, "--skip-invalid"));
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("shards: 3/3 committed (run complete)"), r[1]);
        assertTrue(r[1].contains("skipped 2 prompts: empty_prompt 1, malformed_json 1"), r[1]);
        List<SoftLabelRow> rows = rows(out);
        assertEquals(
                List.of(0L, 1L, 2L, 5L, 6L),
                rows.stream().map(SoftLabelRow::promptIndex).toList());
        for (SoftLabelRow row : rows) {
            assertEquals(row.completionIds().length * 5, row.topkIds().length);
            assertTrue(
                    row.finishReason().equals("stop") || row.completionIds().length == 12,
                    row.finishReason() + " after " + row.completionIds().length + " tokens");
        }
        // the chat prompt went through the tiny tokenizer's ChatML template
        SoftLabelRow chat = rows.get(1);
        assertTrue(chat.promptIds().length > 8);
        assertEquals(0, new CommandLine(new ValidateCommand()).execute(out.toString()));
        JsonNode m = manifest(out);
        assertEquals(7, m.get("prompts_total").asInt());
        assertEquals("sample", m.get("config").get("mode").asText());
    }

    @Test
    void aMalformedLineStopsTheRunNamingFileAndLine() throws Exception {
        Path corpus = mixedCorpus();
        String[] r = Fixtures.generate(Fixtures.sampleRunArgs(corpus, tmp.resolve("run")));
        assertEquals("1", r[0]);
        assertTrue(r[2].startsWith("distill generate: " + corpus + ":4: malformed_json: "), r[2]);
        // the shard before the bad line was committed and is kept
        assertTrue(Files.exists(tmp.resolve("run/part-00000.parquet")));
        assertFalse(Files.exists(tmp.resolve("run/part-00001.parquet")));
    }

    @Test
    void rerunResumesAndAChangedConfigIsRefusedByName() throws Exception {
        Path corpus = mixedCorpus();
        Path out = tmp.resolve("run");
        assertEquals("0", Fixtures.generate(Fixtures.sampleRunArgs(corpus, out, "--skip-invalid"))[0]);
        byte[] before = Files.readAllBytes(out.resolve("part-00001.parquet"));
        String[] again = Fixtures.generate(Fixtures.sampleRunArgs(corpus, out, "--skip-invalid"));
        assertEquals("0", again[0], again[2]);
        assertTrue(again[1].contains("this process: 0 prompts"), again[1]);
        assertArrayEquals(before, Files.readAllBytes(out.resolve("part-00001.parquet")));
        List<String> changed = Fixtures.sampleRunArgs(corpus, out, "--skip-invalid");
        changed.set(changed.indexOf("--top-k") + 1, "7");
        String[] refused = Fixtures.generate(changed);
        assertEquals("1", refused[0]);
        assertTrue(refused[2].contains("top_k: 5 (run) vs 7 (now)"), refused[2]);
    }

    @Test
    void aTopKAboveTheVocabularyIsAUsageErrorBeforeTheRunDirectoryExists() throws Exception {
        Path out = tmp.resolve("run");
        List<String> args = Fixtures.sampleRunArgs(mixedCorpus(), out, "--skip-invalid");
        args.set(args.indexOf("--top-k") + 1, "600");
        String[] r = Fixtures.generate(args);
        assertEquals("2", r[0], r[2]);
        assertTrue(
                r[2].contains("--top-k 600 exceeds the teacher's vocabulary of 512 ids (" + Fixtures.model("llama")
                        + "/config.json)"),
                r[2]);
        assertFalse(Files.exists(out), "the run directory is not created");
    }

    @Test
    void aBrokenTeacherDirectoryIsNamedWithWhatIsWrong() throws Exception {
        Path teacher = tmp.resolve("teacher");
        Files.createDirectories(teacher);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(Fixtures.model("llama").resolve(f), teacher.resolve(f));
        }
        Files.write(teacher.resolve("model.safetensors"), new byte[0]);
        Path corpus = mixedCorpus();
        List<String> args = Fixtures.sampleRunArgs(corpus, tmp.resolve("run"), "--skip-invalid");
        args.set(args.indexOf("--teacher") + 1, teacher.toString());
        String[] r = Fixtures.generate(args);
        assertEquals("1", r[0], r[2]);
        assertTrue(
                r[2].contains(
                        "distill generate: --teacher " + teacher + ": " + teacher.resolve("model.safetensors")
                                + ": empty or truncated safetensors file (0 bytes; it must start with an 8-byte header length)"),
                r[2]);
        Files.delete(teacher.resolve("config.json"));
        r = Fixtures.generate(args);
        assertEquals("1", r[0], r[2]);
        assertTrue(r[2].contains("distill generate: --teacher " + teacher + ": no config.json"), r[2]);
        assertFalse(Files.exists(tmp.resolve("run")), "the run directory is not created");
    }

    @Test
    void aFullDiskIsOneLineAndExit1AndARetryFindsNoLeftovers() throws Exception {
        Path dir = tmp.resolve("full");
        FullDiskFileSystem.fsError = true; // as Hadoop's local file system reports ENOSPC
        List<String> args = Fixtures.sampleRunArgs(mixedCorpus(), dir, "--skip-invalid");
        args.set(args.indexOf("--out") + 1, FullDiskFileSystem.location(dir));
        for (int attempt = 0; attempt < 2; attempt++) {
            String[] r = Fixtures.generate(args);
            assertEquals("1", r[0], r[2]);
            List<String> lines =
                    r[2].lines().filter(l -> l.startsWith("distill generate:")).toList();
            assertEquals(1, lines.size(), r[2]);
            assertTrue(
                    lines.get(0).contains("shard 0 (part-00000.parquet): cannot write ")
                            && lines.get(0).endsWith(": No space left on device"),
                    lines.get(0));
            assertFalse(r[2].contains("\tat "), "no stack trace: " + r[2]);
            try (var s = Files.list(dir.resolve("_tmp"))) {
                assertEquals(
                        List.of(),
                        s.filter(p -> p.getFileName().toString().startsWith("part-"))
                                .toList());
            }
        }
    }

    @Test
    void aTruncatedShardIsDetectedAndWrittenAgainOnRerun() throws Exception {
        Path corpus = mixedCorpus();
        Path out = tmp.resolve("run");
        assertEquals("0", Fixtures.generate(Fixtures.sampleRunArgs(corpus, out, "--skip-invalid"))[0]);
        Path part = out.resolve("part-00001.parquet");
        byte[] before = Files.readAllBytes(part);
        Files.write(part, java.util.Arrays.copyOf(before, before.length - 100));
        String[] again = Fixtures.generate(Fixtures.sampleRunArgs(corpus, out, "--skip-invalid"));
        assertEquals("0", again[0], again[2]);
        assertTrue(again[2].contains("shard 1 (part-00001.parquet) in " + out + " is damaged (unreadable: "), again[2]);
        assertTrue(again[1].contains("this process: 3 prompts"), again[1]);
        assertArrayEquals(before, Files.readAllBytes(part));
    }

    @Test
    void aSecondGenerateOnTheSameRunIsRefusedNamingTheHolder() throws Exception {
        Path corpus = mixedCorpus();
        Path out = tmp.resolve("run");
        List<String> first = Fixtures.sampleRunArgs(corpus, out, "--skip-invalid");
        first.set(first.indexOf("--shard-size") + 1, "100");
        assertEquals("0", Fixtures.generate(first)[0]);
        Files.delete(out.resolve("part-00000.parquet"));
        try (var lock = dev.distill.data.RunDirectory.existing(out.toString()).lockWorker(0)) {
            String[] r = Fixtures.generate(first);
            assertEquals("1", r[0], r[2]);
            assertTrue(
                    r[2].contains("distill generate: run directory " + out + " is being written by another process as"
                            + " worker 0 (pid " + ProcessHandle.current().pid() + " on host "),
                    r[2]);
        }
        assertEquals("0", Fixtures.generate(first)[0], "a released lock does not block the rerun");
    }

    @Test
    void twoWorkersWriteTheSameDataAsOne() throws Exception {
        Path corpus = mixedCorpus();
        Path one = tmp.resolve("one");
        Path two = tmp.resolve("two");
        assertEquals("0", Fixtures.generate(Fixtures.sampleRunArgs(corpus, one, "--skip-invalid"))[0]);
        assertEquals(
                "0",
                Fixtures.generate(Fixtures.sampleRunArgs(
                        corpus, two, "--skip-invalid", "--num-workers", "2", "--worker-index", "1"))[0]);
        assertFalse(Files.exists(two.resolve("part-00000.parquet")), "worker 1 must not write shard 0");
        String[] last = Fixtures.generate(
                Fixtures.sampleRunArgs(corpus, two, "--skip-invalid", "--num-workers", "2", "--worker-index", "0"));
        assertTrue(last[1].contains("(run complete)"), last[1]);
        assertEquals(rows(one), rows(two));
        assertEquals(manifest(one).get("shards"), manifest(two).get("shards"));
    }

    @Test
    void scoreModeRecordsTheGivenResponses() throws Exception {
        Path corpus = corpus(
                "{\"prompt\": \"What is two plus two?\", \"response\": \"Four.\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Say hi\"}, {\"role\": \"assistant\", \"content\": \"Hi there!\"}]}",
                "{\"text\": \"The sky is\", \"response\": \" blue today\"}");
        Path out = tmp.resolve("score");
        List<String> args = Fixtures.sampleRunArgs(corpus, out);
        args.set(args.indexOf("--mode") + 1, "score");
        String[] r = Fixtures.generate(args);
        assertEquals("0", r[0], r[2]);
        List<SoftLabelRow> rows = rows(out);
        assertEquals(3, rows.size());
        for (SoftLabelRow row : rows) {
            assertEquals("scored", row.finishReason());
        }
        // chat responses end with the template's end-of-turn token, cut right after it
        int imEnd = dev.distill.tokenizer.HfTokenizer.load(Fixtures.tinyTokenizer())
                .tokenToId("<|im_end|>")
                .getAsInt();
        int[] c0 = rows.get(0).completionIds();
        assertEquals(imEnd, c0[c0.length - 1]);
        int[] c2 = rows.get(2).completionIds();
        assertTrue(java.util.Arrays.stream(c2).noneMatch(t -> t == imEnd));
    }

    @Test
    void killedMidRunResumesToTheSameBytesAsAnUninterruptedRun() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            lines.append("{\"prompt\": \"Tell me fact number ").append(i).append(" about the sea.\"}\n");
        }
        Path corpus = tmp.resolve("sixty.jsonl");
        Files.writeString(corpus, lines);
        List<String> args = Fixtures.sampleRunArgs(corpus, tmp.resolve("killed"));
        args.set(args.indexOf("--max-new-tokens") + 1, "48");
        KilledRun.assertResumesToTheSameBytes(tmp, args, 1, 20, tmp.resolve("clean"));
    }
}
