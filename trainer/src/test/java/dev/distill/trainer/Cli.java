package dev.distill.trainer;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs a command as the distill CLI does (an exception becomes "distill <cmd>: <message>" and exit code 1). */
record Cli(int exitCode, String out, String err) {
    static Cli run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(command)
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .setExecutionExceptionHandler((e, c, parsed) -> {
                    c.getErr().println("distill " + c.getCommandName() + ": " + e.getMessage());
                    return 1;
                });
        int rc = cmd.execute(args);
        return new Cli(rc, out.toString(), err.toString());
    }

    static Cli train(String... args) {
        return run(new TrainCommand(), args);
    }

    static Cli eval(String... args) {
        return run(new EvalCommand(), args);
    }
}
