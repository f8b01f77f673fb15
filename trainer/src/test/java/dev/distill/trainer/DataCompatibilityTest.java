package dev.distill.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.data.CorruptShards;
import dev.distill.data.ShardMetadata;
import dev.distill.data.ShardReader;
import dev.distill.data.SoftLabelRow;
import dev.distill.testing.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the trainer refuses, and the one vocabulary difference it accepts. */
class DataCompatibilityTest {
    @TempDir
    Path tmp;

    private CliRun train(Path student, String data, String... extra) {
        String[] base = {
            "--student",
            student.toString(),
            "--data",
            data,
            "--out",
            tmp.resolve("out").toString(),
            "--batch-tokens",
            "256",
            "--device",
            "cpu"
        };
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRun.of(new TrainCommand(), args);
    }

    @Test
    void dataMadeWithAnotherTokenizerWithoutSpansIsRefusedNamingStoreSpans() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        Path config = student.resolve("tokenizer_config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"model_max_length\": 77,"));
        String dataSha = Trainer.tokenizerSha256(SharedData.teacher(), "teacher");
        String studentSha = Trainer.tokenizerSha256(student, "student");
        assertTrue(!dataSha.equals(studentSha));
        CliRun r = train(student, SharedData.train().toString(), "--steps", "1");
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: --data " + SharedData.train() + " has no text spans, and the student " + student
                        + " has another tokenizer than the data's: a cross-tokenizer student needs soft labels generated with"
                        + " 'distill generate --store-spans'\n",
                r.err());
    }

    /** A copy of the shared training data whose shard 0 is {@code edit} of its rows, written without the writer's checks. */
    private Path corrupted(String name, java.util.function.UnaryOperator<List<SoftLabelRow>> edit, boolean otherConfig)
            throws IOException {
        Path data = tmp.resolve(name);
        TestModels.copyTree(SharedData.train(), data);
        List<SoftLabelRow> rows = new java.util.ArrayList<>();
        ShardMetadata meta;
        try (ShardReader reader =
                ShardReader.open(data.resolve("part-00000.parquet").toString())) {
            meta = reader.metadata();
            reader.forEach(rows::add);
        }
        if (otherConfig) {
            meta = ShardMetadata.of(
                    meta.topK(),
                    meta.vocabSize(),
                    "0".repeat(64),
                    meta.teacher(),
                    meta.teacherFingerprint(),
                    meta.tokenizerSha256(),
                    meta.chatTemplateSha256(),
                    meta.corpusSha256());
        }
        CorruptShards.replaceShard(data, 0, edit.apply(rows), meta);
        return data;
    }

    @Test
    void shardsWithNonFiniteOrPositiveLogprobsAreRefusedNamingFileRowAndValue() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        for (float bad : new float[] {Float.NaN, 5f, Float.POSITIVE_INFINITY}) {
            Path data = corrupted(
                    "bad-" + bad,
                    rows -> {
                        SoftLabelRow r = rows.get(1);
                        float[] lp = r.topkLogprobs().clone();
                        lp[0] = bad;
                        rows.set(
                                1,
                                new SoftLabelRow(
                                        r.sampleId(),
                                        r.promptIndex(),
                                        r.sampleIndex(),
                                        r.promptIds(),
                                        r.completionIds(),
                                        r.completionLogprobs(),
                                        r.topkIds(),
                                        lp,
                                        r.finishReason()));
                        return rows;
                    },
                    false);
            SharedData.deleteTree(tmp.resolve("out"));
            CliRun r = train(student, data.toString(), "--steps", "1", "--shuffle-buffer", "1");
            assertEquals(1, r.exitCode(), r.err());
            assertTrue(r.err().startsWith("distill train: " + data + "/part-00000.parquet row 1 (sample "), r.err());
            assertTrue(
                    r.err()
                            .contains("topk_logprobs[0] (position 0, rank 0) = " + bad
                                    + " is not a finite log-probability"),
                    r.err());
        }
    }

    @Test
    void aRunWhoseShardsCarryAnotherConfigurationIsRefused() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        Path data = corrupted("mixed", rows -> rows, true);
        CliRun r = train(student, data.toString(), "--steps", "1");
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(
                r.err()
                        .startsWith("distill train: --data: " + data + "/part-00000.parquet was made with another"
                                + " configuration than its run (config_hash 0000"),
                r.err());
    }

    @Test
    void aMissingStudentDirectoryIsNamedAsMissing() {
        Path missing = tmp.resolve("nonexistent");
        CliRun r = train(missing, SharedData.train().toString(), "--steps", "1");
        assertEquals(1, r.exitCode(), r.err());
        assertEquals(
                "distill train: --student " + missing + " does not exist: give a Hugging Face model directory"
                        + " (config.json, *.safetensors, tokenizer.json)\n",
                r.err());
    }

    @Test
    void anEmbeddingPaddedBeyondTheTokenizerIsNotAMismatch() {
        Path student = TestModels.student(tmp.resolve("student"), TestModels.studentConfig(576, false), 1);
        CliRun r = train(student, SharedData.train().toString(), "--steps", "2");
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void topKIdsBeyondTheStudentVocabularyAreRefused() {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        String sha = Trainer.tokenizerSha256(student, "student");
        SoftLabelRow row = SoftLabelRow.of(
                0,
                0,
                new int[] {5, 6},
                new int[] {7, 8},
                new float[] {-0.5f, -0.7f},
                new int[] {7, 600, 9, 8},
                new float[] {-0.5f, -1.5f, -0.9f, -1.7f},
                SoftLabelRow.LENGTH);
        Path data = TeacherLabels.writeRun(tmp.resolve("data"), 2, 1024, sha, List.of(row), 4, 1, 0);
        CliRun r = train(student, data.toString(), "--steps", "1");
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill train: " + data + "/part-00000.parquet: sample 0-0: topk_ids holds token id 600, outside the"
                        + " student's vocabulary [0, 512)\n",
                r.err());
    }

    @Test
    void missingAndIncompleteDataDirectoriesAreNamed() throws IOException {
        Path student = TestModels.student(tmp.resolve("student"), 1);
        Path missing = tmp.resolve("nowhere");
        CliRun r = train(student, missing.toString(), "--steps", "1");
        assertEquals(1, r.exitCode());
        assertEquals("distill train: --data: run directory " + missing + " does not exist\n", r.err());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        r = train(student, empty.toString(), "--steps", "1");
        assertEquals(
                "distill train: --data: run directory " + empty + " has no manifest.json (not a distill run"
                        + " directory?)\n",
                r.err());

        String sha = Trainer.tokenizerSha256(student, "student");
        SoftLabelRow a = SoftLabelRow.of(
                0,
                0,
                new int[] {5},
                new int[] {7},
                new float[] {-0.5f},
                new int[] {7},
                new float[] {-0.5f},
                SoftLabelRow.LENGTH);
        SoftLabelRow b = SoftLabelRow.of(
                1,
                0,
                new int[] {5},
                new int[] {7},
                new float[] {-0.5f},
                new int[] {7},
                new float[] {-0.5f},
                SoftLabelRow.LENGTH);
        Path half = TeacherLabels.writeRun(tmp.resolve("half"), 1, sha, List.of(a, b), 1, 1, 0);
        r = train(student, half.toString(), "--steps", "1");
        assertEquals(
                "distill train: --data " + half + ": the run is incomplete (1 of 2 shards committed); finish it"
                        + " with 'distill generate' first\n",
                r.err());
    }

    @Test
    void badOptionsExitWithCode2AndTheReason() {
        Path student = tmp.resolve("student-never-read");
        CliRun both = train(student, "d", "--steps", "3", "--epochs", "1");
        assertEquals(2, both.exitCode());
        assertEquals(
                "--steps and --epochs: give one of them, not both",
                both.err().lines().findFirst().orElseThrow());
        CliRun neither = train(student, "d");
        assertEquals(2, neither.exitCode());
        assertEquals(
                "--steps or --epochs: give one of them (a positive number)",
                neither.err().lines().findFirst().orElseThrow());
        CliRun loss = train(student, "d", "--steps", "3", "--loss", "kl");
        assertEquals(2, loss.exitCode());
        assertEquals(
                "--loss: expected forward-kl, reverse-kl, jsd, tvd or sampled-rkl, got 'kl'",
                loss.err().lines().findFirst().orElseThrow());
        CliRun mixEpochs = train(student, "a:0.7,b:0.3", "--epochs", "1");
        assertEquals(2, mixEpochs.exitCode());
        assertEquals(
                "--data with weights mixes the runs by sampling, without epochs: give --steps, not --epochs",
                mixEpochs.err().lines().findFirst().orElseThrow());
        CliRun someWeights = train(student, "a:0.7,b", "--steps", "3");
        assertEquals(2, someWeights.exitCode());
        assertTrue(
                someWeights
                        .err()
                        .lines()
                        .findFirst()
                        .orElseThrow()
                        .contains("/b: give every run a weight (A:0.7,B:0.3)" + " or none"),
                someWeights.err());
        CliRun sampledT = train(student, "d", "--steps", "3", "--loss", "sampled-rkl", "--kd-temperature", "2");
        assertEquals(2, sampledT.exitCode());
        assertEquals(
                "--kd-temperature: sampled-rkl uses the sampled tokens' log-probs at temperature 1; got 2.0",
                sampledT.err().lines().findFirst().orElseThrow());
        CliRun evalEvery = train(student, "d", "--steps", "3", "--eval-every", "2");
        assertEquals(2, evalEvery.exitCode());
        assertEquals(
                "--eval-every needs --eval-data",
                evalEvery.err().lines().findFirst().orElseThrow());
        CliRun precision = train(student, "d", "--steps", "3", "--precision", "bf16");
        assertEquals(2, precision.exitCode());
        assertEquals(
                "Invalid value for option '--precision': expected one of [FP32, FP16] (case-insensitive) but was 'bf16'",
                precision.err().lines().findFirst().orElseThrow());
    }
}
