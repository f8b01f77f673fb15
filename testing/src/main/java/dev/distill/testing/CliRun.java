package dev.distill.testing;

import dev.distill.cli.CommandLines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * A command run in-process under the real command-line policy ({@link CommandLines}): its exit code, its standard
 * output, its messages (picocli's error stream: the usage errors and the one-line failure) and the logs (whatever else
 * reached System.err).
 */
public record CliRun(int exitCode, String out, String err, String log) {

    /** Runs the subcommand object {@code command} (e.g. {@code new TrainCommand()}) as `distill` runs it. */
    public static CliRun of(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliRun r = capture(() -> CommandLines.create(command, "distill")
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true))
                .execute(args));
        return new CliRun(r.exitCode, out + r.out, err.toString(), r.err);
    }

    /** As {@link #of(Object, String...)} with the arguments in a list. */
    public static CliRun of(Object command, List<String> args) {
        return of(command, args.toArray(String[]::new));
    }

    /**
     * Runs {@code main} (e.g. {@code () -> Main.run(args)}) with System.out and System.err captured; {@code err} then
     * holds the messages and the logs, {@code log} is empty.
     */
    public static CliRun capture(IntSupplier main) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = main.getAsInt();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new CliRun(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), "");
    }
}
