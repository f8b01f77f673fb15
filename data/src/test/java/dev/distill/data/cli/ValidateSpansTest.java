package dev.distill.data.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.CorruptShards;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TeacherVocab;
import dev.distill.data.TestRows;
import dev.distill.data.TestRuns;
import dev.distill.data.TextSpans;
import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill validate` on a --store-spans run: spans must cover completion_text and hold each token's bytes. */
class ValidateSpansTest {
    @TempDir
    Path tmp;

    private RunDirectory spansRun(Path dir) throws Exception {
        var config = TestRuns.config(TestRows.K, 0);
        config.put(RunDirectory.STORE_SPANS_KEY, true);
        RunDirectory run = RunDirectory.open(dir.toString(), config, 20, 10);
        byte[][] vocab = new byte[TestRows.VOCAB][];
        for (int id = 0; id < vocab.length; id++) {
            vocab[id] = TestRows.tokenBytes(id);
        }
        new TeacherVocab(TestRows.metadata(run.configHash()).tokenizerSha256(), vocab, new int[0], new int[0])
                .write(run);
        for (int i = 0; i < 2; i++) {
            try (ShardWriter w = run.openShard(i, TestRows.metadata(run.configHash()), 8 << 10)) {
                long[] range = run.shardRange(i);
                for (long p = range[0]; p < range[1]; p++) {
                    w.write(TestRows.withText(TestRows.row(p, 0)));
                }
                w.commit();
            }
        }
        run.refreshManifest();
        return run;
    }

    @Test
    void aValidSpansRunPasses() throws Exception {
        Path dir = tmp.resolve("run");
        spansRun(dir);
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(0, r.exitCode(), r.out() + r.err());
    }

    @Test
    void spansThatCutTokensWronglyAreReported() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = spansRun(dir);
        List<SoftLabelRow> rows = new ArrayList<>();
        for (long p = 10; p < 20; p++) {
            SoftLabelRow r = TestRows.withText(TestRows.row(p, 0));
            if (p == 12) { // still covers the text exactly: only the vocabulary shows the wrong cut
                int[] ends = r.text().byteEnds().clone();
                ends[0]++;
                r = r.withText(new TextSpans(r.text().promptText(), r.text().completionText(), ends));
            }
            rows.add(r);
        }
        CorruptShards.replaceShard(dir, 1, rows, TestRows.metadata(run.configHash()));
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(1, r.exitCode());
        int first = TestRows.tokenBytes(TestRows.row(12, 0).completionIds()[0]).length;
        assertTrue(
                r.out()
                        .contains("part-00001.parquet row 2 (sample 12-0): completion_text[0, " + (first + 1)
                                + ") does not hold the bytes of completion token 0"),
                r.out());
    }

    @Test
    void spansThatDoNotCoverTheTextAndAMissingVocabularyAreReported() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = spansRun(dir);
        List<SoftLabelRow> rows = new ArrayList<>();
        for (long p = 10; p < 20; p++) {
            SoftLabelRow r = TestRows.withText(TestRows.row(p, 0));
            if (p == 15) {
                byte[] longer = java.util.Arrays.copyOf(
                        r.text().completionText(), r.text().completionText().length + 2);
                r = r.withText(
                        new TextSpans(r.text().promptText(), longer, r.text().byteEnds()));
            }
            rows.add(r);
        }
        CorruptShards.replaceShard(dir, 1, rows, TestRows.metadata(run.configHash()));
        Files.delete(dir.resolve(TeacherVocab.FILE));
        CliRun r = CliRun.of(new ValidateCommand(), dir.toString());
        assertEquals(1, r.exitCode());
        assertTrue(
                r.out()
                        .contains(dir + "/" + TeacherVocab.FILE
                                + " is missing: the run was not generated with --store-spans"),
                r.out());
        assertTrue(r.out().contains("part-00001.parquet row 5 (sample 15-0): completion_byte_ends ends at"), r.out());
    }
}
