package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
    static final long PROMPTS = 50;
    static final int SHARD_SIZE = 12;

    @TempDir
    Path tmp;

    private Map<String, String> uninterrupted() throws Exception {
        Path dir = tmp.resolve("reference");
        TestRuns.writeAll(TestRuns.open(dir, PROMPTS, SHARD_SIZE), 1, 0);
        return TestRuns.snapshot(dir);
    }

    @Test
    void aNewRunPlansItsShardsInTheManifest() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, 10, 4);
        assertEquals(3, run.shardCount());
        assertEquals(List.of(8L, 10L), List.of(run.shardRange(2)[0], run.shardRange(2)[1]));
        assertEquals(List.of(1), run.pendingShards(2, 1));
        assertEquals(CanonicalJson.sha256(run.config()), run.configHash());
        String expected =
                """
                {
                  "schema_version": 1,
                  "config": {
                    "teacher": "/models/tiny",
                    "top_k": 5,
                    "seed": 0,
                    "samples_per_prompt": 2,
                    "shard_size": 4
                  },
                  "config_hash": "%s",
                  "prompts_total": 10,
                  "shards": [
                    {
                      "index": 0,
                      "file": "part-00000.parquet",
                      "prompt_start": 0,
                      "prompt_end": 4,
                      "status": "pending"
                    },
                    {
                      "index": 1,
                      "file": "part-00001.parquet",
                      "prompt_start": 4,
                      "prompt_end": 8,
                      "status": "pending"
                    },
                    {
                      "index": 2,
                      "file": "part-00002.parquet",
                      "prompt_start": 8,
                      "prompt_end": 10,
                      "status": "pending"
                    }
                  ]
                }
                """
                        .formatted(run.configHash());
        assertEquals(expected, Files.readString(dir.resolve("manifest.json")));
        assertEquals(List.of("_tmp", "manifest.json"), list(dir));
    }

    @Test
    void theConfigHashIsTheSha256OfSortedCompactJson() {
        ObjectNode c = TestRuns.config(5, 0);
        c.putObject("sampling").put("top_p", 0.9).put("temperature", 1.0);
        assertEquals(
                "{\"samples_per_prompt\":2,\"sampling\":{\"temperature\":1.0,\"top_p\":0.9},\"seed\":0,\"teacher\":\"/models/tiny\",\"top_k\":5}",
                CanonicalJson.canonical(c));
        // python3 -c 'import hashlib;print(hashlib.sha256(b"<the string above>").hexdigest())'
        assertEquals("1c342da1f987ea25c4ecdf0c2ae26d277df5ea9a19c472d16eece7da4934a1c3", CanonicalJson.sha256(c));
    }

    @Test
    void aRunInterruptedBetweenAndDuringShardsResumesToTheSameBytes() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory first = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        TestRuns.writeShard(first, 0);
        // Crash in the middle of shard 1: the writer is abandoned, never committed nor closed.
        ShardWriter abandoned = first.openShard(1, TestRows.metadata(first.configHash()), 8 << 10);
        TestRuns.writeRows(first, 1, abandoned, 16);
        // And a leftover of an earlier crashed attempt at shard 0, which is committed.
        Files.writeString(dir.resolve("_tmp/part-00000.999-deadbeef.parquet"), "partial");
        assertEquals(2, list(dir.resolve("_tmp")).size());

        RunDirectory resumed = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        assertEquals(1, list(dir.resolve("_tmp")).size(), "the committed shard's leftover is deleted on resume");
        assertTrue(resumed.isCommitted(0));
        assertEquals(List.of(1, 2, 3, 4), resumed.pendingShards(1, 0));
        TestRuns.writeAll(resumed, 1, 0);

        assertTrue(resumed.isComplete());
        assertEquals(uninterrupted(), TestRuns.snapshot(dir));
        assertEquals(
                List.of(
                        "manifest.json",
                        "part-00000.parquet",
                        "part-00001.parquet",
                        "part-00002.parquet",
                        "part-00003.parquet",
                        "part-00004.parquet"),
                list(dir));
    }

    @Test
    void aWorkerProcessKilledWithSigkillResumesToTheSameBytes() throws Exception {
        Path dir = tmp.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        RunWriterMain.class.getName(),
                        dir.toString(),
                        Long.toString(PROMPTS),
                        Integer.toString(SHARD_SIZE),
                        "2")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                lines.add(line);
                if (line.startsWith("writing")) {
                    break;
                }
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(List.of("committed 0", "committed 1", "writing 2"), lines);
        assertEquals(137, p.exitValue());
        assertEquals(1, list(dir.resolve("_tmp")).size(), "the killed attempt's temporary file");

        RunDirectory resumed = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        assertEquals(List.of(2, 3, 4), resumed.pendingShards(1, 0));
        TestRuns.writeAll(resumed, 1, 0);
        assertEquals(uninterrupted(), TestRuns.snapshot(dir));
    }

    @Test
    void aChangedConfigurationIsRefusedNamingEveryDifference() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory.open(dir.toString(), TestRuns.config(20, 0), PROMPTS, SHARD_SIZE);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> RunDirectory.open(dir.toString(), TestRuns.config(50, 1), PROMPTS, SHARD_SIZE));
        assertEquals(
                "run directory " + dir + " was made with a different configuration: top_k: 20 (run) vs 50 (now); "
                        + "seed: 0 (run) vs 1 (now). Use a new --out directory, or rerun with the original options.",
                e.getMessage());

        ObjectNode nested = TestRuns.config(20, 0);
        nested.putObject("sampling").put("top_p", 0.95);
        nested.remove("teacher");
        e = assertThrows(
                IllegalArgumentException.class,
                () -> RunDirectory.open(dir.toString(), nested, PROMPTS + 1, SHARD_SIZE));
        assertEquals(
                "run directory " + dir
                        + " was made with a different configuration: sampling.top_p: (absent) (run) vs 0.95 (now); "
                        + "teacher: /models/tiny (run) vs (absent) (now); prompts_total: 50 (run) vs 51 (now). "
                        + "Use a new --out directory, or rerun with the original options.",
                e.getMessage());

        e = assertThrows(
                IllegalArgumentException.class,
                () -> RunDirectory.open(dir.toString(), TestRuns.config(20, 0), PROMPTS, SHARD_SIZE * 2));
        assertEquals(
                "run directory " + dir + " was made with a different configuration: shard_size: 12 (run) vs 24 (now). "
                        + "Use a new --out directory, or rerun with the original options.",
                e.getMessage());
    }

    @Test
    void twoConcurrentWorkersEndWithTheSingleWorkerDirectory() throws Exception {
        Path dir = tmp.resolve("run");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                int index = w;
                workers.add(pool.submit(() -> {
                    TestRuns.writeAll(TestRuns.open(dir, PROMPTS, SHARD_SIZE), 2, index);
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(uninterrupted(), TestRuns.snapshot(dir));
    }

    @Test
    void aLostManifestUpdateIsRepairedFromThePartFiles() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        TestRuns.writeAll(run, 1, 0);
        String complete = Files.readString(dir.resolve("manifest.json"));
        // A racing writer replaced the manifest with its older view, in which shards 1 and 3 were pending.
        Manifest m = Manifest.read(
                HadoopFs.fileSystem(run.path()), new org.apache.hadoop.fs.Path(run.path(), "manifest.json"));
        List<Manifest.Shard> stale = new ArrayList<>(m.shards());
        for (int i : new int[] {1, 3}) {
            Manifest.Shard s = stale.get(i);
            stale.set(
                    i,
                    new Manifest.Shard(
                            i, s.file(), s.promptStart(), s.promptEnd(), null, null, null, Manifest.Shard.PENDING));
        }
        Files.write(
                dir.resolve("manifest.json"),
                new Manifest(1, m.config(), m.configHash(), m.promptsTotal(), stale).toJson());

        TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        assertEquals(complete, Files.readString(dir.resolve("manifest.json")));
    }

    @Test
    void theFirstAttemptToCommitAShardWins() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory a = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        RunDirectory b = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        ShardWriter wa = a.openShard(0, TestRows.metadata(a.configHash()), 8 << 10);
        ShardWriter wb = b.openShard(0, TestRows.metadata(b.configHash()), 8 << 10);
        TestRuns.writeRows(a, 0, wa, Long.MAX_VALUE);
        TestRuns.writeRows(b, 0, wb, Long.MAX_VALUE);
        assertTrue(wa.commit());
        assertFalse(wb.commit());
        assertEquals(List.of(), list(dir.resolve("_tmp")));
        Manifest.Shard entry = a.refreshManifest().shards().get(0);
        assertEquals(Manifest.Shard.COMPLETE, entry.status());
        assertEquals(2L * 12 - 2 * 2, entry.rows());
        assertThrows(IllegalStateException.class, () -> b.openShard(0, TestRows.metadata(b.configHash())));
    }

    @Test
    void shardWritersCommitWithoutTouchingTheManifestAndTheOpenerRebuildsIt() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory driver = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        byte[] planned = Files.readAllBytes(dir.resolve("manifest.json"));
        RunDirectory a =
                RunDirectory.forShardWriters(dir.toString(), TestRuns.config(TestRows.K, 0), PROMPTS, SHARD_SIZE);
        RunDirectory b =
                RunDirectory.forShardWriters(dir.toString(), TestRuns.config(TestRows.K, 0), PROMPTS, SHARD_SIZE);
        assertEquals(driver.configHash(), a.configHash());
        ShardWriter wa = a.openShard(1, TestRows.metadata(a.configHash()), 8 << 10);
        ShardWriter wb = b.openShard(1, TestRows.metadata(b.configHash()), 8 << 10);
        TestRuns.writeRows(a, 1, wa, Long.MAX_VALUE);
        TestRuns.writeRows(b, 1, wb, Long.MAX_VALUE);
        assertTrue(wa.commit());
        assertFalse(wb.commit());
        assertEquals(List.of(), list(dir.resolve("_tmp")));
        assertArrayEquals(planned, Files.readAllBytes(dir.resolve("manifest.json")));
        for (int i : a.pendingShards(1, 0)) {
            TestRuns.writeShard(a, i);
        }
        assertArrayEquals(planned, Files.readAllBytes(dir.resolve("manifest.json")));
        driver.refreshManifest();
        assertEquals(uninterrupted(), TestRuns.snapshot(dir));
    }

    @Test
    void anAbortedShardLeavesNothing() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        try (ShardWriter w = run.openShard(0, TestRows.metadata(run.configHash()), 8 << 10)) {
            TestRuns.writeRows(run, 0, w, 5);
        }
        assertEquals(List.of(), list(dir.resolve("_tmp")));
        assertFalse(run.isCommitted(0));
    }

    @Test
    void rowsOutsideTheShardOrOutOfOrderAreRefused() throws Exception {
        RunDirectory run = TestRuns.open(tmp.resolve("run"), PROMPTS, SHARD_SIZE);
        try (ShardWriter w = run.openShard(1, TestRows.metadata(run.configHash()))) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> w.write(TestRows.row(3, 0)));
            assertEquals(
                    "shard 1 (part-00001.parquet) row 0 (sample 3-0): prompt_index 3 is outside the shard's prompts [12, 24)",
                    e.getMessage());
            w.write(TestRows.row(13, 1));
            e = assertThrows(IllegalArgumentException.class, () -> w.write(TestRows.row(13, 0)));
            assertEquals(
                    "shard 1 (part-00001.parquet) row 1 (sample 13-0): rows are not ordered by (prompt_index, sample_index): "
                            + "follows 13-1",
                    e.getMessage());
            SoftLabelRow r = TestRows.row(14, 0);
            SoftLabelRow shortTopk = new SoftLabelRow(
                    r.sampleId(),
                    14,
                    0,
                    r.promptIds(),
                    r.completionIds(),
                    r.completionLogprobs(),
                    java.util.Arrays.copyOf(r.topkIds(), r.topkIds().length - 1),
                    r.topkLogprobs(),
                    r.finishReason());
            e = assertThrows(IllegalArgumentException.class, () -> w.write(shortTopk));
            int n = r.completionIds().length;
            assertEquals(
                    "shard 1 (part-00001.parquet) row 1 (sample 14-0): topk_ids has " + (n * 5 - 1)
                            + " values, expected " + n + " positions × top_k 5 = " + n * 5,
                    e.getMessage());
        }
    }

    private static List<String> list(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Shard names are ASCII whatever the default locale: Devanagari or Arabic-Indic digits would hide committed shards. */
    @Test
    void committedShardsAreFoundUnderALocaleWithOtherDigits() throws Exception {
        Locale saved = Locale.getDefault();
        try {
            for (String tag : List.of("hi-IN-u-nu-deva", "ar-SA")) {
                Locale.setDefault(Locale.forLanguageTag(tag));
                Path dir = tmp.resolve("run-" + tag);
                RunDirectory run = TestRuns.open(dir, 10, 4);
                TestRuns.writeShard(run, 1);
                assertTrue(Files.isRegularFile(dir.resolve("part-00001.parquet")), tag);
                assertTrue(run.isCommitted(1), tag);
                assertEquals(List.of(0, 2), run.pendingShards(1, 0), tag);
                assertEquals(
                        List.of(1),
                        RunDirectory.existing(dir.toString()).committedShards().stream()
                                .map(p -> RunDirectory.shardIndex(p.getName()))
                                .toList(),
                        tag);
            }
        } finally {
            Locale.setDefault(saved);
        }
    }
}
