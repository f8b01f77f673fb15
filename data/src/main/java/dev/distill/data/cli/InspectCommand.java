package dev.distill.data.cli;

import dev.distill.data.RunDirectory;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** `distill inspect`: Summarise a run directory: rows, tokens, bytes per token, top-k mass, finish reasons, config. */
@Command(
        name = "inspect",
        mixinStandardHelpOptions = true,
        description = "Summarise a run directory: rows, tokens, bytes per token, top-k mass, finish reasons, config.")
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            index = "0",
            paramLabel = "DIR",
            description = "The run directory (a local path or any Hadoop file system URI).")
    String dir;

    @Option(names = "--json", description = "Print the summary as one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        RunSummary summary = RunSummary.of(RunDirectory.existing(dir));
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? summary.toJson().toPrettyString() + "\n" : summary.toText());
        out.flush();
        return 0;
    }
}
