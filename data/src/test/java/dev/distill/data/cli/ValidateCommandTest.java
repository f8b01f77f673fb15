package dev.distill.data.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.CorruptShards;
import dev.distill.data.HadoopFs;
import dev.distill.data.RunDirectory;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TestRows;
import dev.distill.data.TestRuns;
import dev.distill.testing.CliRun;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateCommandTest {
    static final long PROMPTS = 30;
    static final int SHARD_SIZE = 10;

    @TempDir
    Path tmp;

    private Path completeRun() throws Exception {
        Path dir = tmp.resolve("run");
        TestRuns.writeAll(TestRuns.open(dir, PROMPTS, SHARD_SIZE), 1, 0);
        return dir;
    }

    private static String sha(Path file) throws Exception {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(file.toUri());
        return HadoopFs.sha256(HadoopFs.fileSystem(p), p);
    }

    /** Rewrites shard 1 with every row passed through {@code edit}. */
    private static void editShard1(Path dir, UnaryOperator<SoftLabelRow> edit) throws Exception {
        List<SoftLabelRow> rows = new ArrayList<>();
        for (long p = 10; p < 20; p++) {
            if (p % 7 != 3) {
                rows.add(edit.apply(TestRows.row(p, 0)));
                rows.add(TestRows.row(p, 1));
            }
        }
        CorruptShards.replaceShard(
                dir,
                1,
                rows,
                TestRows.metadata(RunDirectory.existing(dir.toString()).configHash()));
    }

    @Test
    void aValidRunPassesWithASummary() throws Exception {
        Path dir = completeRun();
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(0, r.exitCode(), r.out() + r.err());
        long tokens = RunDirectory.existing(dir.toString()).readManifest().shards().stream()
                .mapToLong(s -> s.completionTokens())
                .sum();
        assertEquals(
                String.format(
                        "valid: %s: 3 shards, 52 rows, %,d completion tokens, logits top-k:5, encoding plain, vocab_size 1000, schema version 2%n",
                        dir, tokens),
                r.out());
    }

    @Test
    void aTruncatedShardIsAViolationNotACrash() throws Exception {
        Path dir = completeRun();
        Path shard = dir.resolve("part-00002.parquet");
        String recorded = RunDirectory.existing(dir.toString())
                .readManifest()
                .shards()
                .get(2)
                .sha256();
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(1, r.exitCode());
        String[] lines = r.out().split("\n");
        assertEquals("part-00002.parquet: sha256 is " + sha(shard) + ", manifest.json says " + recorded, lines[0]);
        assertTrue(lines[1].startsWith("part-00002.parquet: not a readable Parquet file ("), lines[1]);
        assertEquals("invalid: 2 violations in " + dir, lines[2]);
    }

    @Test
    void flippedBytesFailTheChecksumAndThePageCrc() throws Exception {
        Path dir = completeRun();
        Path shard = dir.resolve("part-00000.parquet");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            for (long pos = 200; pos < 260; pos++) {
                f.seek(pos);
                int b = f.read();
                f.seek(pos);
                f.write(b ^ 0x5a);
            }
        }
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(1, r.exitCode());
        String[] lines = r.out().split("\n");
        assertTrue(
                lines[0].startsWith("part-00000.parquet: sha256 is " + sha(shard) + ", manifest.json says "), lines[0]);
        assertTrue(lines[1].startsWith("part-00000.parquet: cannot read "), lines[1]);
    }

    @Test
    void aChecksumMismatchWithTheManifestIsReported() throws Exception {
        Path dir = completeRun();
        Path manifest = dir.resolve("manifest.json");
        String recorded = RunDirectory.existing(dir.toString())
                .readManifest()
                .shards()
                .get(1)
                .sha256();
        String wrong = "0".repeat(64);
        Files.writeString(manifest, Files.readString(manifest).replace(recorded, wrong));
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(1, r.exitCode());
        assertEquals(
                "part-00001.parquet: sha256 is " + recorded + ", manifest.json says " + wrong + "\n"
                        + "invalid: 1 violation in " + dir + "\n",
                r.out());
    }

    @Test
    void aWrongLengthTopkArrayIsReported() throws Exception {
        Path dir = completeRun();
        editShard1(
                dir,
                row -> row.promptIndex() == 13
                        ? withTopk(
                                row,
                                java.util.Arrays.copyOf(row.topkIds(), row.topkIds().length + 5),
                                row.topkLogprobs())
                        : row);
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        int n = TestRows.row(13, 0).completionIds().length;
        assertEquals(
                "part-00001.parquet row 4 (sample 13-0): topk_ids has " + (5 * n + 5) + " values, expected " + n
                        + " positions × top_k 5 = " + 5 * n + "\n"
                        + "invalid: 1 violation in " + dir + "\n",
                r.out());
        assertEquals(1, r.exitCode());
    }

    @Test
    void unsortedTopkIsReported() throws Exception {
        Path dir = completeRun();
        editShard1(dir, row -> {
            if (row.promptIndex() != 12) {
                return row;
            }
            float[] lp = row.topkLogprobs().clone();
            float first = lp[5];
            lp[5] = lp[6];
            lp[6] = first;
            return withTopk(row, row.topkIds(), lp);
        });
        SoftLabelRow original = TestRows.row(12, 0);
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(
                "part-00001.parquet row 2 (sample 12-0): topk_logprobs: position 1 is not sorted descending ("
                        + original.topkLogprobs()[6] + " then " + original.topkLogprobs()[5] + ")\n"
                        + "invalid: 1 violation in " + dir + "\n",
                r.out());
        assertEquals(1, r.exitCode());
    }

    @Test
    void idsOutsideTheVocabularyAreReported() throws Exception {
        Path dir = completeRun();
        editShard1(dir, row -> {
            if (row.promptIndex() != 11) {
                return row;
            }
            int[] ids = row.topkIds().clone();
            ids[3] = TestRows.VOCAB;
            return withTopk(row, ids, row.topkLogprobs());
        });
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(
                "part-00001.parquet row 0 (sample 11-0): topk_ids[3] (position 0, rank 3) = 1000 is not in [0, vocab_size 1000)\n"
                        + "invalid: 1 violation in " + dir + "\n",
                r.out());
        assertEquals(1, r.exitCode());
    }

    @Test
    void anIncompleteRunIsReportedUnlessAllowed() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = TestRuns.open(dir, PROMPTS, SHARD_SIZE);
        TestRuns.writeShard(run, 0);
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(
                "part-00001.parquet: shard 1 is pending: the run is incomplete\n"
                        + "part-00002.parquet: shard 2 is pending: the run is incomplete\n"
                        + "invalid: 2 violations in " + dir + "\n",
                r.out());
        r = CliRun.of(new ValidateCommand(), "--allow-incomplete", dir.toString());
        assertEquals(0, r.exitCode(), r.out());
        assertTrue(r.out().startsWith("valid: " + dir + ": 1 of 3 shards committed, 18 rows, "), r.out());
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path missing = tmp.resolve("nope");
        CliRun r = CliRun.of(new ValidateCommand(), missing.toString());
        assertEquals(1, r.exitCode());
        assertEquals("distill validate: run directory " + missing + " does not exist\n", r.err());
    }

    private static SoftLabelRow withTopk(SoftLabelRow r, int[] ids, float[] logprobs) {
        return new SoftLabelRow(
                r.sampleId(),
                r.promptIndex(),
                r.sampleIndex(),
                r.promptIds(),
                r.completionIds(),
                r.completionLogprobs(),
                ids,
                logprobs,
                r.finishReason());
    }
}
