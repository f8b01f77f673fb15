package dev.distill.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.distill.cli.CommandLines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/** The arguments a driver ships to its tasks: `distill generate`'s options as given, --out qualified, no --master. */
class GenerateArgsTest {
    @Test
    void tasksGetTheGenerateOptionsWithAQualifiedOutAndNoMaster() throws Exception {
        CommandLine cli = CommandLines.create(new SparkGenerateCommand(), "distill-spark");
        ParseResult parsed = cli.parseArgs(
                "--master",
                "local[2]",
                "--teacher",
                "models/t",
                "--prompts",
                "p.jsonl",
                "--out",
                "runs/a",
                "--top-k",
                "7",
                "--no-chat-template",
                "--skip-invalid");
        GenerateArgs args = GenerateArgs.of(cli.getCommandSpec().mixins().get("generate"), parsed);
        String out = "file:" + Path.of("runs/a").toAbsolutePath();
        assertEquals(
                List.of(
                        "--teacher",
                        "models/t",
                        "--prompts",
                        "p.jsonl",
                        "--out",
                        out,
                        "--top-k",
                        "7",
                        "--no-chat-template",
                        "--skip-invalid"),
                args.args());
        assertEquals(7, args.spec().topK());
        assertEquals(out, args.spec().out());
        assertEquals(Path.of("models/t"), args.spec().tokenizer());
    }

    @Test
    void tasksGetTheChatTemplateOptions() throws Exception {
        CommandLine cli = CommandLines.create(new SparkGenerateCommand(), "distill-spark");
        ParseResult parsed = cli.parseArgs(
                "--teacher",
                "models/t",
                "--prompts",
                "p.jsonl",
                "--out",
                "runs/a",
                "--chat-template",
                "t.jinja",
                "--chat-template-kwargs",
                "{\"enable_thinking\": false, \"n\": [1, 2.5]}");
        GenerateArgs args = GenerateArgs.of(cli.getCommandSpec().mixins().get("generate"), parsed);
        assertEquals(
                List.of(
                        "--chat-template",
                        "t.jinja",
                        "--chat-template-kwargs",
                        "{\"enable_thinking\": false, \"n\": [1, 2.5]}"),
                args.args().subList(6, 10));
        assertEquals(Path.of("t.jinja"), args.spec().chatTemplateFile());
        assertEquals(
                Map.of("enable_thinking", false, "n", List.of(1L, 2.5)),
                args.spec().chatTemplateKwargs());
    }
}
