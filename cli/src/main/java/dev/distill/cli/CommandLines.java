package dev.distill.cli;

import java.util.function.Function;
import picocli.CommandLine;

/**
 * The one exit-code policy of every distill command line: 0 success; 2 a usage error (picocli's parse and conversion
 * errors, and a {@link UsageException} from a command's validation: the message, then the usage); 1 any other failure
 * (one line {@code <program> <command>: <message>}, {@code DISTILL_DEBUG=1} adds the stack trace).
 */
public final class CommandLines {
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    private CommandLines() {}

    /** A command line for {@code command} under the policy, errors prefixed with {@code program}. */
    public static CommandLine create(Object command, String program) {
        return create(command, program, CommandLines::describe);
    }

    /** As {@link #create(Object, String)}, with {@code describe} turning a failure into its one-line message. */
    public static CommandLine create(Object command, String program, Function<Throwable, String> describe) {
        CommandLine cli = new CommandLine(command);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> report(e, cmd, parsed, program, describe));
        return cli;
    }

    private static int report(
            Exception e,
            CommandLine cmd,
            CommandLine.ParseResult parsed,
            String program,
            Function<Throwable, String> describe)
            throws Exception {
        UsageException usage = usageCause(e);
        if (usage != null) {
            CommandLine.ParameterException pe = new CommandLine.ParameterException(cmd, usage.getMessage(), usage);
            return cmd.getParameterExceptionHandler()
                    .handleParseException(pe, parsed.originalArgs().toArray(String[]::new));
        }
        if (e instanceof CommandLine.ParameterException pe) {
            return cmd.getParameterExceptionHandler()
                    .handleParseException(pe, parsed.originalArgs().toArray(String[]::new));
        }
        cmd.getErr().println(program + " " + cmd.getCommandName() + ": " + describe.apply(e));
        if (System.getenv("DISTILL_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return FAILURE;
    }

    /** The UsageException that {@code e} is or wraps (a command may rethrow it wrapped), else null. */
    private static UsageException usageCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UsageException u) {
                return u;
            }
        }
        return null;
    }

    /** The exception's message, or its class name when it has none. */
    public static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
