package dev.distill.tokenizer.jinja;

import dev.distill.tokenizer.jinja.Token.Kind;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Splits a template into tokens exactly as Jinja's lexer does with {@code trim_blocks=True} and
 * {@code lstrip_blocks=True}: newlines normalised, one trailing newline dropped, {@code -}/{@code +}
 * whitespace control, comments removed.
 */
final class Lexer {
    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "|", ",", ".",
        ":", "=", "<", ">", ";"
    };

    private final String src;
    private final String sourceName;
    private final int[] lineStarts;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private boolean lineStarting = true;

    private Lexer(String source, String sourceName) {
        this.src = normalizeNewlines(source);
        this.sourceName = sourceName;
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                starts.add(i + 1);
            }
        }
        this.lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
    }

    static List<Token> tokenize(String source, String sourceName) {
        Lexer lexer = new Lexer(source, sourceName);
        lexer.run();
        return lexer.tokens;
    }

    /** Every newline style becomes {@code \n}, and a single trailing newline is dropped (keep_trailing_newline=False). */
    static String normalizeNewlines(String s) {
        String n = s.replace("\r\n", "\n").replace('\r', '\n');
        return n.endsWith("\n") ? n.substring(0, n.length() - 1) : n;
    }

    private int lineAt(int offset) {
        int lo = 0;
        int hi = lineStarts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (lineStarts[mid] <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo + 1;
    }

    private TemplateException error(String detail, int offset) {
        return new TemplateException(detail, sourceName, lineAt(offset));
    }

    private void run() {
        while (pos < src.length()) {
            int open = nextTagStart(pos);
            if (open < 0) {
                emit(Kind.DATA, src.substring(pos), pos);
                break;
            }
            char type = src.charAt(open + 1);
            int after = open + 2;
            char sign = after < src.length() ? src.charAt(after) : 0;
            String text = src.substring(pos, open);
            if (sign == '-') {
                text = PyStrings.strip(text, null, false, true);
                after++;
            } else {
                if (sign == '+') {
                    after++;
                } else if (type != '{') {
                    text = lstripBlock(text);
                }
            }
            emit(Kind.DATA, text, pos);
            lineStarting = false;
            pos = after;
            if (type == '#') {
                comment(open);
            } else {
                tag(type == '{' ? Kind.VARIABLE_BEGIN : Kind.BLOCK_BEGIN, open);
            }
        }
        tokens.add(new Token(Kind.EOF, "", lineAt(src.length())));
    }

    private int nextTagStart(int from) {
        for (int i = from; i + 1 < src.length(); i++) {
            if (src.charAt(i) == '{') {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    /** lstrip_blocks: spaces and tabs between a line start and a block or comment tag are removed. */
    private String lstripBlock(String text) {
        int lineStart = text.lastIndexOf('\n') + 1;
        if (lineStart > 0 || lineStarting) {
            String tail = text.substring(lineStart);
            if (!tail.isEmpty() && tail.codePoints().allMatch(PyStrings::isSpace)) {
                return text.substring(0, lineStart);
            }
        }
        return text;
    }

    private void emit(Kind kind, String text, int offset) {
        if (!text.isEmpty()) {
            tokens.add(new Token(kind, text, lineAt(offset)));
        }
    }

    private void comment(int open) {
        int i = pos;
        while (i + 1 < src.length()) {
            if ((src.charAt(i) == '-' || src.charAt(i) == '+') && src.startsWith("#}", i + 1)) {
                pos = i + 3;
                if (src.charAt(i) == '-') {
                    skipWhitespace();
                } else {
                    lineStarting = false;
                }
                return;
            }
            if (src.startsWith("#}", i)) {
                pos = i + 2;
                trimBlockNewline();
                return;
            }
            i++;
        }
        throw error("Missing end of comment tag", open);
    }

    private void skipWhitespace() {
        int start = pos;
        while (pos < src.length() && PyStrings.isSpace(src.charAt(pos))) {
            pos++;
        }
        lineStarting = pos > start && src.charAt(pos - 1) == '\n';
    }

    /** trim_blocks: the first newline after a block or comment tag is removed. */
    private void trimBlockNewline() {
        if (pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
            lineStarting = true;
        } else {
            lineStarting = false;
        }
    }

    private void tag(Kind begin, int open) {
        boolean block = begin == Kind.BLOCK_BEGIN;
        tokens.add(new Token(begin, block ? "{%" : "{{", lineAt(open)));
        Deque<Character> balance = new ArrayDeque<>();
        while (true) {
            if (pos >= src.length()) {
                throw error("unexpected end of template, expected '" + (block ? "%}" : "}}") + "'", src.length());
            }
            if (balance.isEmpty() && tagEnd(block)) {
                return;
            }
            char c = src.charAt(pos);
            if (PyStrings.isSpace(c)) {
                pos++;
            } else if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                tokens.add(new Token(Kind.NAME, src.substring(start, pos), lineAt(start)));
            } else {
                operator(balance);
            }
        }
    }

    private boolean tagEnd(boolean block) {
        String close = block ? "%}" : "}}";
        int line = lineAt(pos);
        if (src.startsWith("-" + close, pos)) {
            pos += 3;
            tokens.add(new Token(block ? Kind.BLOCK_END : Kind.VARIABLE_END, close, line));
            skipWhitespace();
            return true;
        }
        if (block && src.startsWith("+" + close, pos)) {
            pos += 3;
            tokens.add(new Token(Kind.BLOCK_END, close, line));
            lineStarting = false;
            return true;
        }
        if (src.startsWith(close, pos)) {
            pos += 2;
            tokens.add(new Token(block ? Kind.BLOCK_END : Kind.VARIABLE_END, close, line));
            if (block) {
                trimBlockNewline();
            } else {
                lineStarting = false;
            }
            return true;
        }
        return false;
    }

    private void operator(Deque<Character> balance) {
        int line = lineAt(pos);
        for (String op : OPERATORS) {
            if (src.startsWith(op, pos)) {
                char c = op.charAt(0);
                if (op.length() == 1 && (c == '(' || c == '[' || c == '{')) {
                    balance.push(c == '(' ? ')' : c == '[' ? ']' : '}');
                } else if (op.length() == 1 && (c == ')' || c == ']' || c == '}')) {
                    if (balance.isEmpty()) {
                        throw error("unexpected '" + c + "'", pos);
                    }
                    char expected = balance.pop();
                    if (expected != c) {
                        throw error("unexpected '" + c + "', expected '" + expected + "'", pos);
                    }
                }
                tokens.add(new Token(Kind.OPERATOR, op, line));
                pos += op.length();
                return;
            }
        }
        throw error("unexpected char '" + new String(Character.toChars(src.codePointAt(pos))) + "'", pos);
    }

    private void number() {
        int start = pos;
        boolean afterDot = start > 0 && src.charAt(start - 1) == '.';
        digits();
        boolean isFloat = false;
        if (!afterDot && pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            pos++;
            digits();
            isFloat = true;
        }
        if (!afterDot && pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int mark = pos;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                digits();
                isFloat = true;
            } else {
                pos = mark;
            }
        }
        String text = src.substring(start, pos).replace("_", "");
        tokens.add(new Token(isFloat ? Kind.FLOAT : Kind.INTEGER, text, lineAt(start)));
    }

    private void digits() {
        while (pos < src.length()
                && (Character.isDigit(src.charAt(pos))
                        || (src.charAt(pos) == '_'
                                && pos + 1 < src.length()
                                && Character.isDigit(src.charAt(pos + 1))))) {
            pos++;
        }
    }

    private void string(char quote) {
        int start = pos;
        StringBuilder out = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw error("unexpected char " + (quote == '\'' ? "\"'\"" : "'\"'") + " (unterminated string)", start);
            }
            char c = src.charAt(pos);
            if (c == quote) {
                pos++;
                break;
            }
            if (c == '\\' && pos + 1 < src.length()) {
                pos = escape(out, pos + 1);
            } else {
                out.append(c);
                pos++;
            }
        }
        tokens.add(new Token(Kind.STRING, out.toString(), lineAt(start)));
    }

    /** Decodes one Python string escape starting after the backslash; returns the position after it. */
    private int escape(StringBuilder out, int i) {
        char c = src.charAt(i);
        switch (c) {
            case '\n':
                return i + 1;
            case '\\':
            case '\'':
            case '"':
                out.append(c);
                return i + 1;
            case 'n':
                out.append('\n');
                return i + 1;
            case 't':
                out.append('\t');
                return i + 1;
            case 'r':
                out.append('\r');
                return i + 1;
            case 'a':
                out.append('\u0007');
                return i + 1;
            case 'b':
                out.append('\b');
                return i + 1;
            case 'f':
                out.append('\f');
                return i + 1;
            case 'v':
                out.append('\u000b');
                return i + 1;
            case 'x':
                return hexEscape(out, i, 2);
            case 'u':
                return hexEscape(out, i, 4);
            case 'U':
                return hexEscape(out, i, 8);
            default:
                if (c >= '0' && c <= '7') {
                    int end = i;
                    while (end < src.length() && end < i + 3 && src.charAt(end) >= '0' && src.charAt(end) <= '7') {
                        end++;
                    }
                    out.appendCodePoint(Integer.parseInt(src.substring(i, end), 8));
                    return end;
                }
                out.append('\\').append(c);
                return i + 1;
        }
    }

    private int hexEscape(StringBuilder out, int i, int width) {
        int end = i + 1 + width;
        if (end > src.length() || !src.substring(i + 1, end).chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
            throw error("truncated \\" + src.charAt(i) + " escape in string literal", i);
        }
        out.appendCodePoint(Integer.parseInt(src.substring(i + 1, end), 16));
        return end;
    }
}
