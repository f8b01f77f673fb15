package dev.distill.data.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.data.Fidelity;
import dev.distill.data.Manifest;
import dev.distill.data.RunDirectory;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardWriter;
import dev.distill.data.SoftLabelRow;
import dev.distill.data.TestRuns;
import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path tmp;

    /** 3 prompts in shards of 2, k=2: mass per position 0.75, 0.95, 0.5, 0.75 (prompt 1 has two samples, prompt 2 none). */
    private Path knownRun() throws Exception {
        Path dir = tmp.resolve("run");
        RunDirectory run = RunDirectory.open(dir.toString(), TestRuns.config(2, 7), 3, 2);
        ShardMetadata meta = ShardMetadata.of(2, 10, run.configHash(), "tiny", "t", "k", "none", "c");
        float a = (float) Math.log(0.5),
                b = (float) Math.log(0.25),
                c = (float) Math.log(0.9),
                d = (float) Math.log(0.05);
        try (ShardWriter w = run.openShard(0, meta)) {
            w.write(SoftLabelRow.of(
                    0,
                    0,
                    new int[] {1, 2, 3},
                    new int[] {4, 5},
                    new float[] {a, c},
                    new int[] {4, 6, 5, 7},
                    new float[] {a, b, c, d},
                    "stop"));
            w.write(SoftLabelRow.of(
                    1,
                    0,
                    new int[] {1},
                    new int[] {8},
                    new float[] {a},
                    new int[] {9, 8},
                    new float[] {a, a - 100},
                    "length"));
            w.write(SoftLabelRow.of(
                    1,
                    1,
                    new int[] {1},
                    new int[] {9},
                    new float[] {b},
                    new int[] {9, 8},
                    new float[] {a, b},
                    "length"));
            Fidelity.Accumulator f = new Fidelity.Accumulator();
            f.add(0.75, 1.0, 0.1);
            f.add(0.95, 0.5, 0.01);
            f.add(0.5, 2.0, 0.3);
            f.add(0.75, 1.2, 0.1);
            w.setFidelity(f.summary());
            w.commit();
        }
        try (ShardWriter w = run.openShard(1, meta)) {
            w.commit();
        }
        return dir;
    }

    @Test
    void printsTheNumbersOfAKnownRun() throws Exception {
        Path dir = knownRun();
        long bytes = Files.size(dir.resolve("part-00000.parquet")) + Files.size(dir.resolve("part-00001.parquet"));
        CliRun r = CliRun.of(new InspectCommand(), dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        String config = Manifest.pretty(new ObjectMapper()
                .readTree(Files.readString(dir.resolve("manifest.json")))
                .get("config"));
        String expected = "run directory      " + dir + "\n"
                + "shards             2 of 2 complete\n"
                + "rows               3\n"
                + "prompts            2 of 3 in the corpus\n"
                + "prompt tokens      5\n"
                + "completion tokens  4\n"
                + String.format(Locale.ROOT, "bytes on disk      %,d (%.2f per completion token)\n", bytes, bytes / 4.0)
                + "logits             top-k:2 (plain encoding), at most 2 entries per position, vocabulary 10\n"
                + "stored mass        mean 0.7375, min 0.5000 over 4 positions\n"
                + "fidelity           covered mass mean 0.7375 (p50 0.7500, p95 0.9500, max 0.9500); entropy mean 1.175"
                + " nats (p95 2.000); KL(full || stored) mean 0.12750 nats (p50 0.10000, p95 0.30000, max 0.30000) over 4"
                + " positions\n"
                + "finish reasons     length 2, stop 1\n"
                + "config_hash        " + RunDirectory.existing(dir.toString()).configHash() + "\n"
                + "config\n"
                + "  " + config.replace("\n", "\n  ") + "\n";
        assertEquals(expected, r.out());
    }

    @Test
    void jsonOutputCarriesTheSameNumbers() throws Exception {
        Path dir = knownRun();
        CliRun r = CliRun.of(new InspectCommand(), "--json", dir.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3, j.get("rows").asLong());
        assertEquals(2, j.get("prompts").asLong());
        assertEquals(4, j.get("completion_tokens").asLong());
        assertEquals(0.7375, j.get("topk_mass_mean").asDouble(), 1e-6);
        assertEquals(0.5, j.get("topk_mass_min").asDouble(), 1e-6);
        assertEquals(2, j.get("finish_reasons").get("length").asLong());
        assertEquals(7, j.get("config").get("seed").asInt());
        assertEquals(
                j.get("bytes").asDouble() / 4,
                j.get("bytes_per_completion_token").asDouble(),
                1e-9);
        assertEquals("top-k:2", j.get("logits").asText());
        assertEquals("plain", j.get("encoding").asText());
        assertEquals(4, j.get("fidelity").get("positions").asLong());
        assertEquals(0.1275, j.get("fidelity").get("kl").get("mean").asDouble(), 1e-6);
        assertEquals(0.3, j.get("fidelity").get("kl").get("p95").asDouble(), 1e-6);
        // the manifest carries each shard's summary too
        JsonNode manifest = new ObjectMapper().readTree(Files.readString(dir.resolve("manifest.json")));
        assertEquals(
                4,
                manifest.get("shards").get(0).get("fidelity").get("positions").asLong());
        assertEquals(
                0.95,
                manifest.get("shards")
                        .get(0)
                        .get("fidelity")
                        .get("covered_mass")
                        .get("max")
                        .asDouble(),
                1e-6);
        assertEquals(
                0,
                manifest.get("shards").get(1).get("fidelity").get("positions").asLong());
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path missing = tmp.resolve("nope");
        CliRun r = CliRun.of(new InspectCommand(), missing.toString());
        assertEquals(1, r.exitCode());
        assertEquals("distill inspect: run directory " + missing + " does not exist\n", r.err());
    }
}
