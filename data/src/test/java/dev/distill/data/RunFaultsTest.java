package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults a run directory must survive: bad values, racing configurations, damaged or orphaned shards, two writers. */
class RunFaultsTest {
    static final long PROMPTS = 30;
    static final int SHARD_SIZE = 12;

    @TempDir
    Path tmp;

    @Test
    void aRowWithNaNOrPositiveLogprobsOrAnOutOfVocabularyIdIsNeverCommitted() throws Exception {
        RunDirectory run = TestRuns.open(tmp.resolve("run"), PROMPTS, SHARD_SIZE);
        SoftLabelRow r = TestRows.row(0, 0);
        float[] nan = r.topkLogprobs().clone();
        nan[TestRows.K + 1] = Float.NaN;
        float[] positive = r.completionLogprobs().clone();
        positive[0] = 5f;
        int[] oov = r.topkIds().clone();
        oov[2] = TestRows.VOCAB + 7;
        List<SoftLabelRow> bad = List.of(
                new SoftLabelRow(
                        r.sampleId(),
                        0,
                        0,
                        r.promptIds(),
                        r.completionIds(),
                        r.completionLogprobs(),
                        r.topkIds(),
                        nan,
                        r.finishReason()),
                new SoftLabelRow(
                        r.sampleId(),
                        0,
                        0,
                        r.promptIds(),
                        r.completionIds(),
                        positive,
                        r.topkIds(),
                        r.topkLogprobs(),
                        r.finishReason()),
                new SoftLabelRow(
                        r.sampleId(),
                        0,
                        0,
                        r.promptIds(),
                        r.completionIds(),
                        r.completionLogprobs(),
                        oov,
                        r.topkLogprobs(),
                        r.finishReason()));
        List<String> expected = List.of(
                "shard 0 (part-00000.parquet) row 0 (sample 0-0): topk_logprobs[6] (position 1, rank 1) = NaN is not a finite log-probability (<= 0)",
                "shard 0 (part-00000.parquet) row 0 (sample 0-0): completion_logprobs[0] = 5.0 is not a finite log-probability (<= 0)",
                "shard 0 (part-00000.parquet) row 0 (sample 0-0): topk_ids[2] (position 0, rank 2) = 1007 is not in [0, vocab_size 1000)");
        for (int c = 0; c < bad.size(); c++) {
            SoftLabelRow row = bad.get(c);
            try (ShardWriter w = run.openShard(0, TestRows.metadata(run.configHash()))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(row));
                assertEquals(expected.get(c), e.getMessage());
            }
            assertFalse(run.isCommitted(0));
        }
        assertEquals(List.of(), list(tmp.resolve("run/_tmp")), "the failed attempts' temporary files are deleted");
    }

    @Test
    void aFullDiskFailsTheShardWithOneMessageAndLeavesNoTemporaryFile() throws Exception {
        Path dir = tmp.resolve("full");
        for (boolean fsError : new boolean[] {false, true}) {
            FullDiskFileSystem.fsError = fsError;
            RunDirectory run = RunDirectory.open(
                    FullDiskFileSystem.location(dir), TestRuns.config(TestRows.K, 0), PROMPTS, SHARD_SIZE);
            IOException e = assertThrows(IOException.class, () -> {
                try (ShardWriter w = run.openShard(0, TestRows.metadata(run.configHash()), 8 << 10)) {
                    TestRuns.writeRows(run, 0, w, Long.MAX_VALUE);
                    w.commit();
                }
            });
            assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            assertEquals(
                    List.of(),
                    list(dir.resolve("_tmp")).stream()
                            .filter(f -> f.startsWith("part-"))
                            .toList(),
                    "the attempt's temporary file is deleted (fsError " + fsError + ")");
            assertFalse(run.isCommitted(0));
        }
    }

    @Test
    void workersStartedTogetherWithDifferentConfigurationsCannotBothOpenTheRun() throws Exception {
        for (int round = 0; round < 10; round++) {
            Path dir = tmp.resolve("race-" + round);
            CountDownLatch start = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<RunDirectory>> opened = new ArrayList<>();
            for (int k : new int[] {TestRows.K, TestRows.K + 1}) {
                opened.add(pool.submit(() -> {
                    start.await();
                    return RunDirectory.open(dir.toString(), TestRuns.config(k, 0), PROMPTS, SHARD_SIZE);
                }));
            }
            start.countDown();
            int ok = 0;
            for (Future<RunDirectory> f : opened) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                    ok++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertTrue(
                            e.getCause().getMessage().contains("was made with a different configuration: top_k: "),
                            e.getCause().getMessage());
                }
            }
            pool.shutdown();
            assertEquals(1, ok, "exactly one configuration wins the run directory");
        }
    }

    @Test
    void aShardCommitIsRefusedWhenTheRunWasFixedToAnotherConfiguration() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory fixed = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        RunDirectory other =
                RunDirectory.forShardWriters(dir.toString(), TestRuns.config(TestRows.K, 9), PROMPTS, SHARD_SIZE);
        try (ShardWriter w = other.openShard(0, TestRows.metadata(other.configHash()), 8 << 10)) {
            TestRuns.writeRows(other, 0, w, Long.MAX_VALUE);
            IllegalStateException e = assertThrows(IllegalStateException.class, w::commit);
            assertTrue(
                    e.getMessage()
                            .contains(
                                    "was fixed to another configuration by the process that created it: seed: 0 (run) vs 9 (now)"),
                    e.getMessage());
        }
        assertFalse(fixed.isCommitted(0));
    }

    @Test
    void aTruncatedShardIsWrittenAgainOnResumeAndACorruptOneWithVerify() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        TestRuns.writeAll(run, 1, 0);
        Path part0 = dir.resolve("part-00000.parquet");
        Path part1 = dir.resolve("part-00001.parquet");
        byte[] bytes = Files.readAllBytes(part0);
        Files.write(part0, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        byte[] one = Files.readAllBytes(part1);
        one[one.length / 3] ^= 0x5a; // same size, footer intact: only the hash shows it
        Files.write(part1, one);

        RunDirectory resumed = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        assertEquals(List.of(0), resumed.pendingShards(1, 0));
        assertEquals(1, resumed.repairedShards().size());
        assertTrue(
                resumed.repairedShards()
                        .get(0)
                        .startsWith("shard 0 (part-00000.parquet) in " + dir + " is damaged (unreadable"),
                resumed.repairedShards().get(0));
        assertFalse(resumed.isComplete());

        RunDirectory verified =
                RunDirectory.open(dir.toString(), TestRuns.config(TestRows.K, 0), PROMPTS, SHARD_SIZE, true);
        assertEquals(List.of(0, 1), verified.pendingShards(1, 0));
        assertTrue(
                verified.repairedShards().get(0).contains("is damaged (sha256 "),
                verified.repairedShards().get(0));
        TestRuns.writeAll(verified, 1, 0);
        assertEquals(bytes.length, Files.size(part0));
        assertTrue(verified.isComplete());
    }

    @Test
    void aLostManifestIsRebuiltFromShardFootersOfTheSameConfigurationOnly() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        TestRuns.writeShard(run, 0);
        TestRuns.writeShard(run, 2);
        byte[] manifest = Files.readAllBytes(dir.resolve(RunDirectory.MANIFEST));
        Files.delete(dir.resolve(RunDirectory.MANIFEST));

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> RunDirectory.open(dir.toString(), TestRuns.config(TestRows.K, 1), PROMPTS, SHARD_SIZE));
        assertTrue(
                e.getMessage()
                        .contains(
                                "has no manifest.json and its shard part-00000.parquet was made with another configuration"),
                e.getMessage());
        RunDirectory rebuilt = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        assertEquals(List.of(1), rebuilt.pendingShards(1, 0));
        assertEquals(
                new String(manifest, StandardCharsets.UTF_8),
                new String(Files.readAllBytes(dir.resolve(RunDirectory.MANIFEST)), StandardCharsets.UTF_8));
    }

    @Test
    void aSecondWriterOfTheSameWorkerIsRefusedNamingTheHolderAndAKilledHolderDoesNotBlock() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        try (WorkerLock held = run.lockWorker(0)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> run.lockWorker(0));
            assertTrue(
                    e.getMessage()
                            .startsWith(
                                    "run directory " + dir + " is being written by another process as worker 0 (pid "
                                            + ProcessHandle.current().pid() + " on host "),
                    e.getMessage());
            run.lockWorker(1).close(); // another worker index is free
        }
        Process holder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        LockHolderMain.class.getName(),
                        dir.toString())
                .redirectErrorStream(true)
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); line != null && !line.startsWith("locked"); line = out.readLine()) {
                // skip log lines
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> run.lockWorker(0));
            assertTrue(e.getMessage().contains("(pid " + holder.pid() + " on host "), e.getMessage());
        } finally {
            holder.destroyForcibly(); // SIGKILL: the OS drops its lock
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        run.lockWorker(0).close();
    }

    private static List<String> list(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
