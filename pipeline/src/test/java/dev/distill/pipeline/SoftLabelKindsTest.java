package dev.distill.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.distill.data.CanonicalJson;
import dev.distill.data.Fidelity;
import dev.distill.data.LogitsSpec;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.cli.ValidateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `distill generate --logits top-p|sample --encoding plain|compact` end to end on the tiny llama fixture. */
class SoftLabelKindsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private List<String> args(Path out, String logits, String encoding, String mode) throws IOException {
        return args(out, logits, encoding, mode, 5);
    }

    private List<String> args(Path out, String logits, String encoding, String mode, int prompts) throws IOException {
        Path corpus = tmp.resolve("corpus-" + prompts + ".jsonl");
        if (!Files.exists(corpus)) {
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < prompts; i++) {
                lines.append("{\"prompt\": \"Tell me fact ")
                        .append(i)
                        .append(" about the sea.\", \"response\": \"The sea is")
                        .append(" deep and ")
                        .append(i)
                        .append(" times salty.\"}\n");
            }
            Files.writeString(corpus, lines);
        }
        return new ArrayList<>(List.of(
                "--teacher",
                Fixtures.model("llama").toString(),
                "--tokenizer",
                Fixtures.tinyTokenizer().toString(),
                "--prompts",
                corpus.toString(),
                "--out",
                out.toString(),
                "--mode",
                mode,
                "--logits",
                logits,
                "--encoding",
                encoding,
                "--max-new-tokens",
                "10",
                "--shard-size",
                "2",
                "--seed",
                "5"));
    }

    @Test
    void badLogitsSpecsAreUsageErrorsNamingTheOptionAndTheAcceptedForms() throws IOException {
        for (String bad : List.of(
                "top-k:0",
                "top-p:1.5",
                "top-p:0.9:0",
                "sample:0",
                "sample:8:0",
                "nucleus:0.9",
                "top-k",
                "top-k:x",
                "sample:4:1:2")) {
            String[] r = Fixtures.generate(args(tmp.resolve("bad"), bad, "plain", "sample"));
            assertEquals("2", r[0], bad + ": " + r[2]);
            assertTrue(r[2].contains("--logits") && r[2].contains(LogitsSpec.FORMS), bad + ": " + r[2]);
        }
        String[] enc = Fixtures.generate(args(tmp.resolve("bad"), "top-k:4", "tight", "sample"));
        assertEquals("2", enc[0], enc[2]);
        assertTrue(enc[2].contains("--encoding") && enc[2].contains("plain, compact"), enc[2]);
        List<String> remote = args(tmp.resolve("bad"), "sample:8", "plain", "sample");
        int t = remote.indexOf("--teacher");
        remote.set(t, "--teacher-url");
        remote.set(t + 1, "http://127.0.0.1:9/v1");
        remote.addAll(List.of("--teacher-model", "m", "--vocab-size", "512"));
        String[] refused = Fixtures.generate(remote);
        assertEquals("2", refused[0], refused[2]);
        assertTrue(refused[2].contains("--logits sample:8:1") && refused[2].contains("--teacher-url"), refused[2]);
        assertTrue(!Files.exists(tmp.resolve("bad")), "nothing was written");
    }

    @Test
    void topPShardsAreValidMinimalAndRecomputeToTheSameBytes() throws Exception {
        checkKind("top-p:0.6:6", "plain", "sample");
    }

    @Test
    void sampledShardsAreValidCountNDrawsAndRecomputeToTheSameBytes() throws Exception {
        checkKind("sample:16", "plain", "greedy");
    }

    @Test
    void compactSampledShardsAtAnotherProposalTemperature() throws Exception {
        checkKind("sample:12:2", "compact", "sample");
    }

    @Test
    void compactTopPInScoreMode() throws Exception {
        checkKind("top-p:0.9", "compact", "score");
    }

    private void checkKind(String logits, String encoding, String mode) throws Exception {
        LogitsSpec spec = LogitsSpec.parse(logits);
        Path out = tmp.resolve("run");
        String[] r = Fixtures.generate(args(out, logits, encoding, mode));
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("fidelity: covered mass mean"), r[1]);
        assertEquals(0, new CommandLine(new ValidateCommand()).execute(out.toString()));
        long positions = 0;
        for (int i = 0; i < 3; i++) {
            try (ShardReader reader = ShardReader.open(
                    out.resolve(String.format("part-%05d.parquet", i)).toString())) {
                ShardMetadata meta = reader.metadata();
                assertEquals(2, meta.schemaVersion());
                assertEquals(spec, meta.logits());
                assertEquals(encoding, meta.encoding().spelling());
                Fidelity f = reader.fidelity();
                assertNotNull(f);
                long shardPositions = 0;
                for (SoftLabelRow row : reader) {
                    shardPositions += row.completionIds().length;
                    int[] offsets = row.labelOffsets(meta.topK());
                    for (int t = 0; t < row.completionIds().length; t++) {
                        int size = offsets[t + 1] - offsets[t];
                        assertTrue(size >= 1 && size <= spec.size(), "size " + size);
                        if (spec.sampled()) {
                            int draws = 0;
                            for (int j = offsets[t]; j < offsets[t + 1]; j++) {
                                draws += row.labelCounts()[j];
                            }
                            assertEquals(spec.size(), draws);
                        }
                    }
                    if (!spec.sampled()) {
                        assertNull(row.labelCounts());
                    }
                }
                assertEquals(shardPositions, f.positions(), "fidelity is measured at every position");
                positions += shardPositions;
                assertTrue(f.coveredMass().mean() > 0 && f.coveredMass().max() <= 1 + 1e-6, f.toFooterValue());
                assertTrue(f.kl().mean() >= 0 && f.entropy().mean() > 0, f.toFooterValue());
            }
        }
        assertTrue(positions > 0);
        JsonNode manifest = GenerateCommandTest.manifest(out);
        assertEquals(
                logits.equals(spec.toString()) ? logits : spec.toString(),
                manifest.get("config").get("logits").asText());
        assertTrue(
                manifest.get("shards").get(0).get("fidelity").get("positions").asLong() >= 0);
        // a lost shard (killed while writing) is recomputed to the same bytes
        byte[] before = Files.readAllBytes(out.resolve("part-00001.parquet"));
        Files.delete(out.resolve("part-00001.parquet"));
        String[] again = Fixtures.generate(args(out, logits, encoding, mode));
        assertEquals("0", again[0], again[2]);
        assertArrayEquals(before, Files.readAllBytes(out.resolve("part-00001.parquet")));
    }

    @Test
    void aChangedLogitsOrEncodingIsRefusedOnResumeNamingIt() throws Exception {
        Path out = tmp.resolve("run");
        assertEquals("0", Fixtures.generate(args(out, "sample:8", "plain", "greedy"))[0]);
        String[] logits = Fixtures.generate(args(out, "sample:9", "plain", "greedy"));
        assertEquals("1", logits[0]);
        assertTrue(logits[2].contains("logits: sample:8:1 (run) vs sample:9:1 (now)"), logits[2]);
        String[] encoding = Fixtures.generate(args(out, "sample:8", "compact", "greedy"));
        assertEquals("1", encoding[0]);
        assertTrue(encoding[2].contains("encoding: ") && encoding[2].contains("compact (now)"), encoding[2]);
    }

    @Test
    void aSampleRunBegunByABuildThatDrewOtherwiseIsRefusedOnResume() throws Exception {
        Path out = tmp.resolve("run");
        assertEquals("0", Fixtures.generate(args(out, "sample:8", "plain", "greedy"))[0]);
        // a build before the integer draws wrote no sample_draws key (and so another config hash)
        Path manifest = out.resolve(RunDirectory.MANIFEST);
        ObjectNode m = (ObjectNode) JSON.readTree(manifest.toFile());
        ObjectNode config = (ObjectNode) m.get("config");
        assertEquals("int64-inverse-cdf", config.remove("sample_draws").asText());
        m.put("config_hash", CanonicalJson.sha256(config));
        JSON.writeValue(manifest.toFile(), m);
        String[] resumed = Fixtures.generate(args(out, "sample:8", "plain", "greedy"));
        assertEquals("1", resumed[0]);
        assertTrue(resumed[2].contains("sample_draws: (absent) (run) vs int64-inverse-cdf (now)"), resumed[2]);
    }

    @Test
    void killedMidRunTopPAndSampledRunsResumeToTheSameBytes() throws Exception {
        // top-k is GenerateCommandTest's kill -9 test; 16 prompts in shards of 2, killed once shard 0 is committed
        for (String[] kind : List.of(new String[] {"top-p:0.8:8", "compact"}, new String[] {"sample:16:2", "plain"})) {
            Path run = tmp.resolve(kind[0].replace(':', '_'));
            KilledRun.assertResumesToTheSameBytes(
                    tmp, args(run.resolve("killed"), kind[0], kind[1], "sample", 16), 0, 8, run.resolve("clean"));
        }
    }
}
