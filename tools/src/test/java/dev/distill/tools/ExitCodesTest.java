package dev.distill.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exit-code policy through the real entry point: every invalid option value of every command is a usage error
 * (exit 2) whose message names the option, and nothing is written before it is found.
 */
class ExitCodesTest {
    @TempDir
    static Path tmp;

    static Stream<Arguments> badValues() {
        String gen = "generate --teacher T --prompts P.jsonl --out OUT";
        return Stream.of(
                Arguments.of(gen + " --top-k 0", "--top-k must be >= 1, got 0"),
                Arguments.of(gen + " --temperature -1", "--temperature must be > 0 in sample mode, got -1.0"),
                Arguments.of(gen + " --top-p 2", "--top-p must be in (0, 1], got 2.0"),
                Arguments.of(gen + " --shard-size 0", "--shard-size must be >= 1, got 0"),
                Arguments.of(gen + " --max-new-tokens 0", "--max-new-tokens must be >= 1, got 0"),
                Arguments.of(
                        gen + " --mode foo",
                        "Invalid value for option '--mode': expected one of [SAMPLE, GREEDY, SCORE] (case-insensitive) but was 'foo'"),
                Arguments.of(
                        gen + " --chat-template t.jinja --no-chat-template",
                        "--chat-template and --no-chat-template exclude each other"),
                Arguments.of(gen + " --dtype foo", "--dtype: expected auto, fp32 or fp16, got 'foo'"),
                Arguments.of(gen + " --dtype bf16", "--dtype bf16: DJL's PyTorch engine has no bfloat16"),
                Arguments.of(gen + " --device tpu", "--device: expected auto, cpu, gpu or gpu:N, got 'tpu'"),
                Arguments.of(gen + " --num-workers 2 --worker-index 2", "--worker-index must be in [0, 2), got 2"),
                Arguments.of(gen + " --top-k x", "Invalid value for option '--top-k': 'x' is not an int"),
                Arguments.of("serve --model M --port 70000", "--port must be in [0, 65535], got 70000"),
                Arguments.of("serve --model M --max-batch-tokens 0", "--max-batch-tokens must be >= 1, got 0"),
                Arguments.of("serve --model M --device tpu", "--device: expected auto, cpu, gpu or gpu:N, got 'tpu'"),
                Arguments.of(
                        "init-model --preset huge --tokenizer T --out OUT",
                        "--preset: expected one of [tiny, small, bench, qwen2-0.5b], got 'huge'"),
                Arguments.of("download org/name --out OUT --max-retries -1", "--max-retries must be >= 0, got -1"),
                Arguments.of(
                        "download not/a/repo --out OUT", "REPO_ID 'not/a/repo' is not a repository id like org/name"),
                Arguments.of("demo --work OUT --scale 0", "--scale must be > 0, got 0.0"),
                Arguments.of(
                        "train --student S --data D --out OUT --steps 1 --precision bf16",
                        "Invalid value for option '--precision': expected one of [FP32, FP16] (case-insensitive) but was 'bf16'"),
                Arguments.of(
                        "train --student S --data D --out OUT --steps 1 --schedule foo",
                        "expected one of [COSINE, LINEAR, CONSTANT] (case-insensitive) but was 'foo'"),
                Arguments.of(
                        "train --student S --data D --out OUT --steps 1 --tail foo",
                        "Invalid value for option '--tail': expected one of [ZERO, BUCKET] (case-insensitive) but was 'foo'"),
                Arguments.of(
                        "train --student S --data D --out OUT --steps 1 --epochs 1",
                        "--steps and --epochs: give one of them, not both"),
                Arguments.of("eval --model M --data D --batch-tokens 0", "--batch-tokens must be positive"),
                Arguments.of(
                        "eval --model M --data D --precision bf16",
                        "Invalid value for option '--precision': expected one of [FP32, FP16] (case-insensitive) but was 'bf16'"),
                Arguments.of(
                        "train --student S --data D --out OUT --steps 1 --schedule Linear --tail BUCKET --precision x",
                        "Invalid value for option '--precision'"),
                Arguments.of(
                        "export --model M --out O.gguf --quant q5_1",
                        "--quant 'q5_1' (supported: f32, f16, q8_0, q4_0)"),
                Arguments.of(
                        "export --model M --out O.gguf --quant q4_0 --fallback q8_0",
                        "--fallback q8_0 has blocks itself (supported: f16, f32)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void anInvalidOptionValueIsAUsageErrorNamingTheOption(String command, String message) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "case");
        List<String> args = new ArrayList<>();
        for (String a : command.split(" ")) {
            args.add(a.equals("OUT") ? dir.resolve("out").toString() : a);
        }
        CliRun r = CliRun.capture(() -> Main.run(args.toArray(String[]::new)));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertTrue(r.err().contains("Usage: distill " + args.get(0)), "the usage follows the message: " + r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing is written before the options are checked");
    }
}
