package dev.distill.spark;

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
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        Engines.forceOffline();
        return new CommandLine(new SparkMain())
                .setExecutionExceptionHandler(SparkMain::reportError)
                .execute(args);
    }

    /** A failure prints one line naming what is wrong; DISTILL_DEBUG=1 adds the stack trace. */
    private static int reportError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println("distill-spark " + cmd.getCommandName() + ": " + JobFailure.describe(e));
        if (System.getenv("DISTILL_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return 1;
    }
}
