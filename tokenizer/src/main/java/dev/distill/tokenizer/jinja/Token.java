package dev.distill.tokenizer.jinja;

/** One lexical token of a template: its kind, text (decoded for strings) and 1-based line. */
record Token(Kind kind, String text, int line) {

    /** Token kinds, as Jinja's lexer names them. */
    enum Kind {
        DATA,
        VARIABLE_BEGIN,
        VARIABLE_END,
        BLOCK_BEGIN,
        BLOCK_END,
        NAME,
        STRING,
        INTEGER,
        FLOAT,
        OPERATOR,
        EOF
    }

    boolean is(Kind k, String value) {
        return kind == k && text.equals(value);
    }

    boolean isName(String name) {
        return is(Kind.NAME, name);
    }

    boolean isOp(String op) {
        return is(Kind.OPERATOR, op);
    }

    /** How Jinja describes this token in "unexpected ..." errors. */
    String describe() {
        switch (kind) {
            case EOF:
                return "end of template";
            case VARIABLE_END:
                return "end of print statement";
            case BLOCK_END:
                return "end of statement block";
            case DATA:
                return "template data";
            case STRING:
                return "string";
            default:
                return "'" + text + "'";
        }
    }
}
