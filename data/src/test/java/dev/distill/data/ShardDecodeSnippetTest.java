package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.RepoRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pyarrow reads version 2: the committed fixture shards are what this build writes (byte for byte), and the decode
 * snippet of docs/shard-format.md, run by tools/scripts/decode_shards_pyarrow.py over them, gave the committed
 * {@code .pyarrow.json} numbers, which the Java reader must match. No Python runs here.
 *
 * <p>To regenerate after a deliberate format change: run with {@code -Ddistill.writeFixtures=true}, then
 * {@code python3 tools/scripts/decode_shards_pyarrow.py fixtures/shards/NAME.parquet fixtures/shards/NAME.pyarrow.json}.
 */
class ShardDecodeSnippetTest {
    @TempDir
    Path tmp;

    static ShardMetadata meta(String name) {
        LogitsSpec spec = name.contains("sample") ? LogitsSpec.sample(16, 1.0) : LogitsSpec.topP(0.95, 16);
        LabelEncoding encoding = name.endsWith("compact") ? LabelEncoding.COMPACT : LabelEncoding.PLAIN;
        return ShardFormatV2Test.meta(spec, encoding);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sample-compact", "sample-plain", "top-p-compact", "top-p-plain"})
    void pyarrowDecodesTheFixtureShardsToWhatTheJavaReaderReads(String name) throws Exception {
        ShardMetadata meta = meta(name);
        Path written = tmp.resolve(name + ".parquet");
        try (ShardWriter w = ShardWriter.create(written.toString(), meta, ShardWriter.DEFAULT_ROW_GROUP_BYTES)) {
            for (SoftLabelRow row : ShardFormatV2Test.rows(meta.logits(), 6, 17)) {
                w.write(row);
            }
            w.commit();
        }
        Path fixture = RepoRoot.path().resolve("fixtures/shards/" + name + ".parquet");
        if (Boolean.getBoolean("distill.writeFixtures")) {
            Files.createDirectories(fixture.getParent());
            Files.copy(written, fixture, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        assertArrayEquals(
                Files.readAllBytes(fixture), Files.readAllBytes(written), "the writer's bytes changed: " + name);

        assertDecodesLikePyarrow(name, meta);
    }

    /**
     * Quantising against each position's maximum may lift a decoded position's mass above 1 (up to exp(step / 2)):
     * the committed sample-compact fixture decodes to masses up to ~1.008 from plain masses <= 1. The row rules that
     * validate and the trainer apply to decoded rows allow exactly that, and no more.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sample-compact", "top-p-compact"})
    void decodedCompactRowsPassTheRowRulesWithTheStepsMassAllowance(String name) throws Exception {
        ShardMetadata meta = meta(name);
        Path fixture = RepoRoot.path().resolve("fixtures/shards/" + name + ".parquet");
        List<String> strict = new ArrayList<>();
        List<String> decoded = new ArrayList<>();
        double maxMass = 0;
        try (ShardReader reader = ShardReader.open(fixture.toString())) {
            RowChecker plainRules = new RowChecker(name, meta, 0, Long.MAX_VALUE, strict::add);
            RowChecker compactRules =
                    new RowChecker(name, meta, 0, Long.MAX_VALUE, decoded::add).decodedWithStep(reader.compactStep());
            long r = 0;
            for (SoftLabelRow row : reader) {
                plainRules.check(r, row);
                compactRules.check(r++, row);
                int at = 0;
                for (int size : row.labelSizes()) {
                    double mass = 0;
                    for (int j = 0; j < size; j++) {
                        mass += Math.exp(row.topkLogprobs()[at++]);
                    }
                    maxMass = Math.max(maxMass, mass);
                }
            }
        }
        assertEquals(List.of(), decoded);
        assertTrue(maxMass <= Math.exp(1.0 / 32), name + " decodes a mass of " + maxMass);
        if (maxMass > 1 + RowChecker.EPSILON) {
            assertTrue(strict.get(0).contains("has probability mass"), strict.toString());
        }
        if (name.startsWith("sample")) {
            assertTrue(maxMass > 1.005, "the fixture no longer shows the case: max mass " + maxMass);
        }
    }

    /**
     * Compact shards written before the step became 1/16 (fixtures/shards/step-1-64, committed by that build with their
     * pyarrow numbers) still decode: the reader takes the step from the footer, and gets the rows' plain log-probs back
     * within half of that step.
     */
    @ParameterizedTest
    @ValueSource(strings = {"step-1-64/sample-compact", "step-1-64/top-p-compact"})
    void compactShardsOfTheEarlierStepStillDecode(String name) throws Exception {
        ShardMetadata meta = meta(name);
        Path fixture = RepoRoot.path().resolve("fixtures/shards/" + name + ".parquet");
        try (ShardReader reader = ShardReader.open(fixture.toString())) {
            assertEquals("0.015625", reader.keyValueMetadata().get(CompactLabels.KEY_LOGPROB_STEP));
            List<SoftLabelRow> plain = ShardFormatV2Test.rows(meta.logits(), 6, 17);
            int i = 0;
            for (SoftLabelRow row : reader) {
                float[] expected = plain.get(i++).topkLogprobs().clone();
                float[] got = row.topkLogprobs().clone();
                java.util.Arrays.sort(expected); // compact decodes in id order: compare the multisets
                java.util.Arrays.sort(got);
                for (int j = 0; j < got.length; j++) {
                    assertEquals(expected[j], got[j], 1.0 / 128 + 1e-5, name + " row " + (i - 1));
                }
            }
            assertEquals(plain.size(), i);
        }
        assertDecodesLikePyarrow(name, meta);
    }

    /** The Java reader decodes fixtures/shards/NAME.parquet to the numbers pyarrow's decode gave (NAME.pyarrow.json). */
    private static void assertDecodesLikePyarrow(String name, ShardMetadata meta) throws Exception {
        Path fixture = RepoRoot.path().resolve("fixtures/shards/" + name + ".parquet");
        JsonNode pyarrow = new ObjectMapper()
                .readTree(RepoRoot.path()
                        .resolve("fixtures/shards/" + name + ".pyarrow.json")
                        .toFile());
        List<SoftLabelRow> rows = new ArrayList<>();
        try (ShardReader reader = ShardReader.open(fixture.toString())) {
            reader.forEach(rows::add);
        }
        assertEquals(rows.size(), pyarrow.get("rows").size());
        for (int i = 0; i < rows.size(); i++) {
            SoftLabelRow row = rows.get(i);
            JsonNode positions = pyarrow.get("rows").get(i);
            int[] offsets = row.labelOffsets(meta.topK());
            assertEquals(row.completionIds().length, positions.size());
            for (int t = 0; t < positions.size(); t++) {
                JsonNode p = positions.get(t);
                assertEquals(offsets[t + 1] - offsets[t], p.get("ids").size());
                for (int j = 0; j < p.get("ids").size(); j++) {
                    int at = offsets[t] + j;
                    assertEquals(row.topkIds()[at], p.get("ids").get(j).asInt(), name + " row " + i + " position " + t);
                    assertEquals(
                            row.topkLogprobs()[at], p.get("logprobs").get(j).asDouble(), 1e-6);
                    if (meta.logits().sampled()) {
                        assertEquals(
                                row.labelCounts()[at], p.get("counts").get(j).asInt());
                    } else {
                        assertTrue(p.get("counts").isNull());
                    }
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void theDocsSnippetIsTheCodeThatProducedTheReferenceNumbers() throws Exception {
        String docs = Files.readString(RepoRoot.path().resolve("docs/shard-format.md"));
        String script = Files.readString(RepoRoot.path().resolve("tools/scripts/decode_shards_pyarrow.py"));
        String marker = "# --- decode snippet (docs/shard-format.md) ---\n";
        String snippet =
                script.substring(script.indexOf(marker) + marker.length(), script.indexOf("# --- end of snippet ---"));
        assertTrue(snippet.contains("def labels(path):"), snippet);
        assertTrue(
                docs.contains("```python\n" + snippet + "```"),
                "docs/shard-format.md must show the script's decode" + " snippet verbatim:\n" + snippet);
    }
}
