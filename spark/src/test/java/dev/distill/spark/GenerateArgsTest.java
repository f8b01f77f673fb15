package dev.distill.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/** The arguments a driver ships to its tasks: `distill generate`'s options as given, --out qualified, no --master. */
class GenerateArgsTest {
    @Test
    void tasksGetTheGenerateOptionsWithAQualifiedOutAndNoMaster() throws Exception {
        CommandLine cli = new CommandLine(new SparkGenerateCommand());
        ParseResult parsed = cli.parseArgs("--master", "local[2]", "--teacher", "models/t", "--prompts", "p.jsonl",
                "--out", "runs/a", "--top-k", "7", "--no-chat-template", "--skip-invalid");
        GenerateArgs args = GenerateArgs.of(cli.getCommandSpec().mixins().get("generate"), parsed);
        String out = "file:" + Path.of("runs/a").toAbsolutePath();
        assertEquals(List.of("--teacher", "models/t", "--prompts", "p.jsonl", "--out", out, "--top-k", "7",
                "--no-chat-template", "--skip-invalid"), args.args());
        assertEquals(7, args.spec().topK());
        assertEquals(out, args.spec().out());
        assertEquals(Path.of("models/t"), args.spec().tokenizer());
    }
}
