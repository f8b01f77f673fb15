package dev.distill.tools.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.model.OpProfiler;
import dev.distill.model.gguf.GgufFile;
import dev.distill.testing.CliRun;
import dev.distill.tools.MainTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill export` end to end: the file's tokenizer keys, --eval-data, `eval` on a .gguf, and every refusal. */
class ExportCommandTest {
    @TempDir
    Path tmp;

    private Path tinyLlama() throws Exception {
        return LlamaCppTest.modelDir(
                tmp, "llama", Path.of("").toAbsolutePath().getParent().resolve("fixtures/tokenizers/tiny"));
    }

    @Test
    void exportWritesTheTokenizerAndEvalOnTheFileMatchesTheModelDirectory() throws Exception {
        Path model = tinyLlama();
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "Why is the sky blue?\nWrite a short poem.\n");
        Path run = tmp.resolve("run");
        CliRun r = MainTest.runCli(
                "generate",
                "--teacher",
                model.toString(),
                "--prompts",
                prompts.toString(),
                "--out",
                run.toString(),
                "--mode",
                "greedy",
                "--top-k",
                "8",
                "--max-new-tokens",
                "6",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());

        Path f32 = tmp.resolve("m-f32.gguf");
        Path trace = tmp.resolve("export.json");
        OpProfiler.start();
        try {
            r = exportF32(model, f32, run);
        } finally {
            OpProfiler.stop(trace);
        }
        assertEquals(0, r.exitCode(), r.err());
        String out = r.out();
        // both rows are evaluated on oneDNN's packed linear layers: the packed_linear calls of two evaluations
        assertTrue(packedLinearCalls(trace) > 0, "the KL table runs packed linear layers");
        assertTrue(out.contains("wrote " + f32 + " (f32, "), out);
        String[] lines = out.strip().split("\n");
        String hfRow = lines[lines.length - 2];
        String ggufRow = lines[lines.length - 1];
        assertTrue(hfRow.startsWith("| " + model + " | "), out);
        assertTrue(ggufRow.startsWith("| " + f32 + " (f32) | "), out);
        // f32 holds the same weights: KL, top-1 and CE are identical
        assertEquals(hfRow.substring(hfRow.indexOf(" MB |")), ggufRow.substring(ggufRow.indexOf(" MB |")), out);

        // the same table with -Ddistill.linear=matmul: no packed_linear call, the same numbers within rounding
        Path matmulTrace = tmp.resolve("export-matmul.json");
        CliRun matmul;
        System.setProperty("distill.linear", "matmul");
        OpProfiler.start();
        try {
            matmul = exportF32(model, tmp.resolve("m-f32-matmul.gguf"), run);
        } finally {
            OpProfiler.stop(matmulTrace);
            System.clearProperty("distill.linear");
        }
        assertEquals(0, matmul.exitCode(), matmul.err());
        assertEquals(0, packedLinearCalls(matmulTrace), "-Ddistill.linear=matmul keeps the matmul");
        String[] matmulLines = matmul.out().strip().split("\n");
        for (int row = 1; row <= 2; row++) {
            String[] a = lines[lines.length - row].split("\\|");
            String[] b = matmulLines[matmulLines.length - row].split("\\|");
            for (int col = 3; col <= 5; col++) { // KL, top-1, CE as printed (4 or 3 decimals)
                assertEquals(Double.parseDouble(b[col]), Double.parseDouble(a[col]), 1.5e-4, out + matmul.out());
            }
        }

        try (GgufFile f = GgufFile.open(f32)) {
            assertEquals("gpt2", f.metadata().get("tokenizer.ggml.model"));
            assertEquals("gpt-2", f.metadata().get("tokenizer.ggml.pre"));
            List<?> tokens = (List<?>) f.metadata().get("tokenizer.ggml.tokens");
            List<?> types = (List<?>) f.metadata().get("tokenizer.ggml.token_type");
            assertEquals(512, tokens.size());
            assertEquals(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"), tokens.subList(0, 3));
            assertEquals(List.of(3L, 3L, 3L, 1L), types.subList(0, 4));
            assertEquals(2L, f.metadata().get("tokenizer.ggml.eos_token_id"));
            assertEquals(0L, f.metadata().get("tokenizer.ggml.padding_token_id"));
            assertEquals(false, f.metadata().get("tokenizer.ggml.add_bos_token"));
            assertTrue(((String) f.metadata().get("tokenizer.chat_template")).contains("<|im_start|>"));
            assertEquals(0L, f.metadata().get("general.file_type"));
        }

        // the teacher labelled its own greedy text, so the directory's KL is ~0; each level adds its cost
        double[] kl = new double[2];
        String[] quants = {"q8_0", "q4_0"};
        for (int i = 0; i < 2; i++) {
            Path q = tmp.resolve("m-" + quants[i] + ".gguf");
            assertEquals(
                    0,
                    MainTest.runCli("export", "--model", model.toString(), "--out", q.toString(), "--quant", quants[i])
                            .exitCode());
            r = MainTest.runCli("eval", "--model", q.toString(), "--data", run.toString(), "--json");
            assertEquals(0, r.exitCode(), r.err());
            JsonNode m = new ObjectMapper().readTree(r.out());
            assertEquals(12, m.get("tokens").asInt(), r.out());
            kl[i] = m.get("kl").asDouble();
        }
        r = MainTest.runCli("eval", "--model", model.toString(), "--data", run.toString(), "--json");
        double hfKl = new ObjectMapper().readTree(r.out()).get("kl").asDouble();
        assertTrue(Math.abs(hfKl) < 1e-6 && hfKl < kl[0] && kl[0] < kl[1], hfKl + " " + Arrays.toString(kl));
    }

    private static CliRun exportF32(Path model, Path out, Path evalData) {
        return MainTest.runCli(
                "export",
                "--model",
                model.toString(),
                "--out",
                out.toString(),
                "--quant",
                "f32",
                "--eval-data",
                evalData.toString());
    }

    private static long packedLinearCalls(Path trace) {
        return OpProfiler.topLevel(trace).stream()
                .filter(op -> op.name().equals("packed_linear"))
                .count();
    }

    @Test
    void aGgufFileIsNotEvaluatedOnAnotherTokenizersData() throws Exception {
        Path model = tinyLlama();
        Path gguf = tmp.resolve("m.gguf");
        assertEquals(
                0,
                MainTest.runCli("export", "--model", model.toString(), "--out", gguf.toString(), "--quant", "f32")
                        .exitCode());
        // labels of the same teacher read through the tiny_variant tokenizer: data of another tokenizer
        Path run = tmp.resolve("variant-run");
        CliRun r = MainTest.runCli(
                "generate",
                "--teacher",
                model.toString(),
                "--tokenizer",
                Path.of("")
                        .toAbsolutePath()
                        .getParent()
                        .resolve("fixtures/tokenizers/tiny_variant")
                        .toString(),
                "--prompts",
                Files.writeString(tmp.resolve("prompts.txt"), "Why is the sky blue?\n")
                        .toString(),
                "--out",
                run.toString(),
                "--mode",
                "greedy",
                "--top-k",
                "4",
                "--max-new-tokens",
                "4",
                "--device",
                "cpu");
        assertEquals(0, r.exitCode(), r.err());
        r = MainTest.runCli("eval", "--model", gguf.toString(), "--data", run.toString(), "--device", "cpu");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(
                r.err()
                        .contains("--model " + gguf + ": the data was made with another tokenizer, and a"
                                + " cross-tokenizer eval reads the model's tokenizer.json; give the Hugging Face model"
                                + " directory, not a GGUF file"),
                r.err());
    }

    @Test
    void refusalsNameTheOptionFileOrTensor() throws Exception {
        Path model = tinyLlama();
        Path out = tmp.resolve("m.gguf");
        CliRun r = MainTest.runCli("export", "--model", model.toString(), "--out", out.toString(), "--quant", "q5_1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--quant 'q5_1' (supported: f32, f16, q8_0, q4_0)"), r.err());

        Files.writeString(out, "x");
        r = MainTest.runCli("export", "--model", model.toString(), "--out", out.toString(), "--quant", "f16");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--out " + out + " already exists; pass --force to replace it"), r.err());
        r = MainTest.runCli(
                "export", "--model", model.toString(), "--out", out.toString(), "--quant", "f16", "--force");
        assertEquals(0, r.exitCode(), r.err());

        Path tiny = tmp.resolve("tiny");
        assertEquals(
                0,
                MainTest.runCli(
                                "init-model",
                                "--preset",
                                "tiny",
                                "--tokenizer",
                                Path.of("")
                                        .toAbsolutePath()
                                        .getParent()
                                        .resolve("fixtures/tokenizers/tiny")
                                        .toString(),
                                "--out",
                                tiny.toString())
                        .exitCode());
        Path q8 = tmp.resolve("tiny-q8.gguf");
        r = MainTest.runCli("export", "--model", tiny.toString(), "--out", q8.toString(), "--quant", "q8_0");
        assertEquals(1, r.exitCode());
        assertEquals(
                "distill export: " + tiny + ": tensor 'blk.0.ffn_down.weight' [64, 176]: row length 176 is not a"
                        + " multiple of the q8_0 block size 32 (--fallback f16 stores such tensors as f16)",
                r.err().strip());
        assertTrue(Files.notExists(q8));
        r = MainTest.runCli(
                "export", "--model", tiny.toString(), "--out", q8.toString(), "--quant", "q8_0", "--fallback", "f16");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(
                r.out()
                        .contains("2 tensors stored as f16 (rows not a multiple of 32): blk.0.ffn_down.weight,"
                                + " blk.1.ffn_down.weight"),
                r.out());

        Path gpt2 = Files.createDirectories(tmp.resolve("gpt2"));
        Files.writeString(
                gpt2.resolve("config.json"),
                Files.readString(model.resolve("config.json"))
                        .replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt2\""));
        r = MainTest.runCli(
                "export",
                "--model",
                gpt2.toString(),
                "--out",
                tmp.resolve("g.gguf").toString(),
                "--quant",
                "f16");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains(gpt2.resolve("config.json") + ": model_type 'gpt2' is not supported"), r.err());
    }
}
