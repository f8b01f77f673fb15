package dev.distill.tokenizer.jinja;

/** A template that cannot be compiled or rendered; the message names the template and its line. */
public final class TemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String detail;
    private final String sourceName;
    private final int line;

    /** An error not yet tied to a template position; the node that sees it first adds the line. */
    TemplateException(String detail) {
        this(detail, null, 0);
    }

    TemplateException(String detail, String sourceName, int line) {
        super(sourceName == null ? detail : sourceName + ", line " + line + ": " + detail);
        this.detail = detail;
        this.sourceName = sourceName;
        this.line = line;
    }

    /** The error without its position. */
    public String detail() {
        return detail;
    }

    /** The 1-based template line, or 0 when unknown. */
    public int line() {
        return line;
    }

    boolean located() {
        return sourceName != null;
    }

    /** This error placed at {@code line} of {@code source}, unless it already has a position. */
    TemplateException at(String source, int at) {
        if (located()) {
            return this;
        }
        TemplateException placed = new TemplateException(detail, source, at);
        placed.setStackTrace(getStackTrace());
        return placed;
    }
}
