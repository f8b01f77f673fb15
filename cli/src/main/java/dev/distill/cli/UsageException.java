package dev.distill.cli;

/**
 * A bad option value or combination, found by a command's own validation (a range, an exclusion, a value that shows
 * only once the inputs are loaded): {@link CommandLines} reports it as a usage error, exit code 2, like picocli's own
 * parse errors.
 */
public class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Throws a UsageException with {@code message} unless {@code ok}. */
    public static void require(boolean ok, String message) {
        if (!ok) {
            throw new UsageException(message);
        }
    }

    /**
     * The value of {@code parse} (an option's value parsed by code that knows no command line, e.g. a device name),
     * its IllegalArgumentException turned into a UsageException.
     */
    public static <T> T wrap(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }
}
