package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.cli.ValidateCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Format version 2: variable-size positions, draw counts, the compact encoding, and version 1 still read. */
class ShardFormatV2Test {
    static final int VOCAB = 151_936;

    @TempDir
    Path dir;

    static ShardMetadata meta(LogitsSpec spec, LabelEncoding encoding) {
        return new ShardMetadata(
                2,
                spec.size(),
                VOCAB,
                "h".repeat(64),
                "teacher",
                "f".repeat(64),
                "a".repeat(64),
                "none",
                "c".repeat(64),
                spec,
                encoding);
    }

    /** Rows shaped like {@code spec}'s output over a peaked synthetic teacher (plain order: descending or by id). */
    static List<SoftLabelRow> rows(LogitsSpec spec, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<SoftLabelRow> out = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            int n = 1 + r.nextInt(30);
            int[] sizes = new int[n];
            List<Integer> ids = new ArrayList<>();
            List<Float> lps = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            int[] completion = new int[n];
            float[] completionLp = new float[n];
            for (int t = 0; t < n; t++) {
                // a peaked distribution over the position's candidates, most likely first
                double[] probs = new double[spec.size()];
                double left = 1;
                for (int j = 0; j < probs.length; j++) {
                    probs[j] = left * r.nextDouble(0.2, 0.7);
                    left -= probs[j];
                }
                Arrays.sort(probs);
                for (int a = 0, b = probs.length - 1; a < b; a++, b--) {
                    double x = probs[a];
                    probs[a] = probs[b];
                    probs[b] = x;
                }
                int width = spec.size();
                if (spec.kind() == LogitsSpec.Kind.TOP_P) { // the smallest prefix reaching P, as the generator cuts
                    double mass = 0;
                    for (int j = 0; j < probs.length; j++) {
                        mass += Math.exp((float) Math.log(probs[j]));
                        if (mass >= spec.mass()) {
                            width = j + 1;
                            break;
                        }
                    }
                } else if (spec.sampled()) {
                    width = 1 + r.nextInt(spec.size());
                }
                int[] chosen = r.ints(0, VOCAB).distinct().limit(width).toArray();
                if (spec.sampled()) {
                    Arrays.sort(chosen);
                }
                int drawsLeft = spec.size();
                for (int j = 0; j < width; j++) {
                    ids.add(chosen[j]);
                    lps.add((float) Math.log(probs[j]));
                    if (spec.sampled()) {
                        int c = j == width - 1 ? drawsLeft : 1 + r.nextInt(Math.max(1, drawsLeft - (width - 1 - j)));
                        c = Math.min(c, drawsLeft - (width - 1 - j));
                        counts.add(c);
                        drawsLeft -= c;
                    }
                }
                sizes[t] = width;
                completion[t] = chosen[0];
                completionLp[t] = (float) Math.log(probs[0]);
            }
            SoftLabelRow row = SoftLabelRow.of(
                    p,
                    0,
                    new int[] {1, 2},
                    completion,
                    completionLp,
                    ids.stream().mapToInt(Integer::intValue).toArray(),
                    toFloats(lps),
                    SoftLabelRow.STOP);
            out.add(row.withLabels(
                    sizes,
                    spec.sampled() ? counts.stream().mapToInt(Integer::intValue).toArray() : null));
        }
        return out;
    }

    private static float[] toFloats(List<Float> l) {
        float[] f = new float[l.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = l.get(i);
        }
        return f;
    }

    private List<SoftLabelRow> roundTrip(List<SoftLabelRow> rows, ShardMetadata meta, String name) throws Exception {
        String file = dir.resolve(name).toString();
        try (ShardWriter w = ShardWriter.create(file, meta, ShardWriter.DEFAULT_ROW_GROUP_BYTES)) {
            for (SoftLabelRow row : rows) {
                w.write(row);
            }
            w.commit();
        }
        List<SoftLabelRow> back = new ArrayList<>();
        try (ShardReader reader = ShardReader.open(file)) {
            assertEquals(meta, reader.metadata());
            reader.forEach(back::add);
        }
        return back;
    }

    @Test
    void plainShardsOfEveryKindRoundTripExactly() throws Exception {
        for (LogitsSpec spec : List.of(LogitsSpec.topK(20), LogitsSpec.topP(0.95, 16), LogitsSpec.sample(16, 1.0))) {
            List<SoftLabelRow> rows = rows(spec, 40, 1);
            assertEquals(rows, roundTrip(rows, meta(spec, LabelEncoding.PLAIN), "plain.parquet"), spec.toString());
        }
    }

    @Test
    void compactAgreesWithPlainWithinHalfAStepAndTheReconstructionWithin1e3Nats() throws Exception {
        for (LogitsSpec spec : List.of(LogitsSpec.topK(50), LogitsSpec.topP(0.95, 16), LogitsSpec.sample(64, 2.0))) {
            List<SoftLabelRow> rows = rows(spec, 40, 2);
            List<SoftLabelRow> back = roundTrip(rows, meta(spec, LabelEncoding.COMPACT), "compact.parquet");
            double worstKl = 0;
            for (int i = 0; i < rows.size(); i++) {
                SoftLabelRow a = rows.get(i);
                SoftLabelRow b = back.get(i);
                assertArrayEquals(a.labelSizes(), b.labelSizes());
                assertArrayEquals(a.completionIds(), b.completionIds());
                int[] offsets = a.labelOffsets(spec.size());
                for (int t = 0; t < a.completionIds().length; t++) {
                    Map<Integer, Integer> at = new HashMap<>();
                    for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                        at.put(b.topkIds()[j], j);
                        if (j > offsets[t]) {
                            assertTrue(b.topkIds()[j] > b.topkIds()[j - 1], "compact positions are in id order");
                        }
                    }
                    int[] countsA = a.labelCounts();
                    for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                        int k = at.get(a.topkIds()[j]);
                        assertEquals(a.topkLogprobs()[j], b.topkLogprobs()[k], CompactLabels.LOGPROB_STEP / 2 + 1e-5);
                        if (countsA != null) {
                            assertEquals(countsA[j], b.labelCounts()[k]);
                        }
                    }
                    // what the trainer reconstructs from each: the target weights over the position's entries
                    int size = offsets[t + 1] - offsets[t];
                    double[] wa = SampledTargets.weights(spec, a.topkLogprobs(), countsA, offsets[t], size);
                    double[] wb = SampledTargets.weights(spec, b.topkLogprobs(), b.labelCounts(), offsets[t], size);
                    double kl = 0;
                    for (int j = 0; j < size; j++) {
                        int k = at.get(a.topkIds()[offsets[t] + j]) - offsets[t];
                        kl += wa[j] * Math.log(wa[j] / wb[k]);
                    }
                    worstKl = Math.max(worstKl, kl);
                }
            }
            // each entry's log-ratio lies in an interval of width step, so KL <= step^2 / 8 (Hoeffding): 4.9e-4 < 1e-3
            double bound = CompactLabels.LOGPROB_STEP * CompactLabels.LOGPROB_STEP / 8;
            assertTrue(
                    bound < 1e-3 && worstKl <= bound + 1e-6, spec + ": worst position KL(plain || compact) " + worstKl);
        }
    }

    @Test
    void versionOneShardsStillReadAndValidate() throws Exception {
        RunDirectory run = TestRuns.open(dir.resolve("v1"), 10, 5);
        for (int i = 0; i < 2; i++) {
            try (ShardWriter w =
                    run.openShard(i, TestRows.metadata(run.configHash()).withVersion(1), 8 << 10)) {
                TestRuns.writeRows(run, i, w, Long.MAX_VALUE);
                w.commit();
            }
        }
        run.refreshManifest();
        try (ShardReader reader = ShardReader.open(run.shardPath(0), ShardSchema.COLUMNS)) {
            assertEquals(1, reader.metadata().schemaVersion());
            assertEquals("t".repeat(64), reader.metadata().teacherFingerprint(), "read from distill.teacher_sha256");
            assertTrue(reader.keyValueMetadata().containsKey(ShardMetadata.KEY_TEACHER_SHA256));
            assertNull(reader.fidelity());
            for (SoftLabelRow row : reader) {
                assertNull(row.labelSizes());
                assertEquals(
                        row.completionIds().length * TestRows.K,
                        row.labelOffsets(TestRows.K)[row.completionIds().length]);
            }
        }
        assertEquals(
                0,
                new CommandLine(new ValidateCommand()).execute(dir.resolve("v1").toString()));
    }

    /**
     * The compact step comes from the footer, not from this build: the same codes under a footer recording twice the
     * step decode twice as far from each position's maximum; a missing or unusable step is refused naming the file.
     */
    @Test
    void theCompactStepIsReadFromTheFooterAndABadOneIsRefusedNamingTheFile() throws Exception {
        LogitsSpec spec = LogitsSpec.topK(20);
        List<SoftLabelRow> written = roundTrip(rows(spec, 5, 4), meta(spec, LabelEncoding.COMPACT), "compact.parquet");
        Path doubled = withStep("compact.parquet", Double.toString(2 * CompactLabels.LOGPROB_STEP), "doubled.parquet");
        List<SoftLabelRow> read = new ArrayList<>();
        try (ShardReader reader = ShardReader.open(doubled.toString())) {
            reader.forEach(read::add);
        }
        assertEquals(written.size(), read.size());
        for (int i = 0; i < written.size(); i++) {
            int[] offsets = written.get(i).labelOffsets(spec.size());
            float[] once = written.get(i).topkLogprobs();
            float[] twice = read.get(i).topkLogprobs();
            for (int t = 0; t + 1 < offsets.length; t++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                    max = Math.max(max, once[j]);
                }
                for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                    assertEquals(2 * once[j] - max, twice[j], 1e-4, "row " + i + " entry " + j);
                }
            }
        }
        for (String bad : Arrays.asList("0", "-0.0625", "NaN", "Infinity", "1/16", null)) {
            Path file = withStep("compact.parquet", bad, "bad.parquet");
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> ShardReader.open(file.toString()), bad);
            assertEquals(
                    "bad.parquet: footer metadata distill.logprob_step is missing or not a positive number: '" + bad
                            + "'",
                    e.getMessage());
        }
    }

    /** A copy of the shard {@code name} (same pages) whose footer records {@code step} (none when null). */
    private Path withStep(String name, String step, String copy) throws Exception {
        org.apache.hadoop.conf.Configuration conf = HadoopFs.conf();
        Path out = dir.resolve(copy);
        java.nio.file.Files.deleteIfExists(out);
        org.apache.parquet.io.InputFile in = org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(dir.resolve(name).toUri()), conf);
        try (org.apache.parquet.hadoop.ParquetFileReader reader =
                org.apache.parquet.hadoop.ParquetFileReader.open(in)) {
            Map<String, String> kv = new HashMap<>(reader.getFileMetaData().getKeyValueMetaData());
            kv.remove(CompactLabels.KEY_LOGPROB_STEP);
            if (step != null) {
                kv.put(CompactLabels.KEY_LOGPROB_STEP, step);
            }
            org.apache.parquet.hadoop.ParquetFileWriter w = new org.apache.parquet.hadoop.ParquetFileWriter(
                    org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(
                            new org.apache.hadoop.fs.Path(out.toUri()), conf),
                    reader.getFileMetaData().getSchema(),
                    org.apache.parquet.hadoop.ParquetFileWriter.Mode.CREATE,
                    ShardWriter.DEFAULT_ROW_GROUP_BYTES,
                    0);
            w.start();
            w.appendFile(in);
            w.end(kv);
        }
        return out;
    }

    @Test
    void anUnknownVersionIsAnErrorNamingTheFile() {
        Map<String, String> kv = new HashMap<>(TestRows.metadata("h".repeat(64)).toKeyValues());
        kv.put(ShardMetadata.KEY_SCHEMA_VERSION, "3");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ShardMetadata.fromKeyValues(kv, "part-00007.parquet"));
        assertEquals(
                "part-00007.parquet: distill.schema_version is 3; this build reads shard format versions 1 and 2"
                        + " (a newer distill wrote this file?)",
                e.getMessage());
    }

    @Test
    void theWriterRefusesRowsThatBreakTheLayout() throws Exception {
        LogitsSpec sample = LogitsSpec.sample(8, 1.0);
        SoftLabelRow row = rows(sample, 1, 3).get(0);
        int[] counts = row.labelCounts().clone();
        counts[0]++;
        try (ShardWriter w =
                ShardWriter.create(dir.resolve("x.parquet").toString(), meta(sample, LabelEncoding.PLAIN), 1 << 20)) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> w.write(row.withLabels(row.labelSizes(), counts)));
            assertTrue(e.getMessage().contains("label_counts: position 0 sums to 9 draws, expected 8"), e.getMessage());
        }
    }
}
