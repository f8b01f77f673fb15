package dev.distill.spark;

import dev.distill.cli.CommandLines;
import dev.distill.model.Engines;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `distill-spark` command line, the main class for spark-submit and the tools/distill-spark launcher. */
@Command(
        name = "distill-spark",
        mixinStandardHelpOptions = true,
        description = "distill on an Apache Spark cluster (or in local mode).",
        subcommands = {SparkGenerateCommand.class})
public final class SparkMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main); the exit codes are {@link CommandLines}'. */
    public static int run(String... args) {
        Engines.forceOffline();
        return CommandLines.create(new SparkMain(), "distill-spark", JobFailure::describe)
                .execute(args);
    }
}
