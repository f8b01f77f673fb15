package dev.distill.data.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.CorruptShards;
import dev.distill.data.LabelEncoding;
import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TestRuns;
import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill validate` on format version 2: the label layout rules of docs/shard-format.md. */
class ValidateV2Test {
    @TempDir
    Path dir;

    @Test
    void validateReportsEveryV2Invariant() throws Exception {
        LogitsSpec topP = LogitsSpec.topP(0.5, 8);
        Path runDir = dir.resolve("run");
        RunDirectory run = RunDirectory.open(runDir.toString(), TestRuns.config(8, 0), 4, 2);
        ShardMetadata m =
                new ShardMetadata(2, 8, 100, run.configHash(), "t", "f", "a", "none", "c", topP, LabelEncoding.PLAIN);
        float half = (float) Math.log(0.3);
        // position 0: 0.3 + 0.3 = 0.6 >= 0.5 after two entries, but a third is stored: not minimal
        SoftLabelRow notMinimal = SoftLabelRow.of(
                        0,
                        0,
                        new int[] {1},
                        new int[] {5},
                        new float[] {half},
                        new int[] {5, 6, 7},
                        new float[] {half, half, (float) Math.log(0.1)},
                        SoftLabelRow.STOP)
                .withLabels(new int[] {3}, null);
        SoftLabelRow duplicate = SoftLabelRow.of(
                        1,
                        0,
                        new int[] {1},
                        new int[] {5},
                        new float[] {half},
                        new int[] {5, 5},
                        new float[] {half, half},
                        SoftLabelRow.STOP)
                .withLabels(new int[] {2}, null);
        try (ShardWriter w = run.openShard(0, m)) {
            w.write(SoftLabelRow.of(
                            0,
                            0,
                            new int[] {1},
                            new int[] {5},
                            new float[] {half},
                            new int[] {5, 6},
                            new float[] {half, half},
                            SoftLabelRow.STOP)
                    .withLabels(new int[] {2}, null));
            w.commit();
        }
        try (ShardWriter w = run.openShard(1, m)) {
            w.commit();
        }
        CorruptShards.replaceShard(runDir, 0, List.of(notMinimal, duplicate), m);
        CliRun r = CliRun.of(new ValidateCommand(), runDir.toString());
        assertEquals(1, r.exitCode());
        String report = r.out() + r.err();
        assertTrue(
                report.contains(
                        "row 0 (sample 0-0): top-p: position 0 is not minimal: its first 2 entries already hold"),
                report);
        assertTrue(report.contains("row 1 (sample 1-0): topk_ids: position 0 holds id 5 twice"), report);
        assertTrue(Files.exists(runDir.resolve("part-00000.parquet")));
    }

    @Test
    void sampledCountsMustSumToNAndIdsAscend() throws Exception {
        LogitsSpec sample = LogitsSpec.sample(4, 1.0);
        Path runDir = dir.resolve("s");
        RunDirectory run = RunDirectory.open(runDir.toString(), TestRuns.config(4, 0), 2, 2);
        ShardMetadata m =
                new ShardMetadata(2, 4, 100, run.configHash(), "t", "f", "a", "none", "c", sample, LabelEncoding.PLAIN);
        float lp = (float) Math.log(0.25);
        try (ShardWriter w = run.openShard(0, m)) {
            w.commit();
        }
        SoftLabelRow wrongSum = SoftLabelRow.of(
                        0,
                        0,
                        new int[] {1},
                        new int[] {5},
                        new float[] {lp},
                        new int[] {5, 9},
                        new float[] {lp, lp},
                        SoftLabelRow.STOP)
                .withLabels(new int[] {2}, new int[] {1, 2});
        SoftLabelRow descending = SoftLabelRow.of(
                        1,
                        0,
                        new int[] {1},
                        new int[] {5},
                        new float[] {lp},
                        new int[] {9, 5},
                        new float[] {lp, lp},
                        SoftLabelRow.STOP)
                .withLabels(new int[] {2}, new int[] {2, 2});
        CorruptShards.replaceShard(runDir, 0, List.of(wrongSum, descending), m);
        CliRun r = CliRun.of(new ValidateCommand(), runDir.toString());
        assertEquals(1, r.exitCode());
        String report = r.out() + r.err();
        assertTrue(report.contains("row 0 (sample 0-0): label_counts: position 0 sums to 3 draws, expected 4"), report);
        assertTrue(
                report.contains("row 1 (sample 1-0): topk_ids: position 0 is not strictly ascending (9 then 5)"),
                report);
    }
}
