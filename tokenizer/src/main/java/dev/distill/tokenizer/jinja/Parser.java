package dev.distill.tokenizer.jinja;

import dev.distill.tokenizer.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Recursive-descent parser for the chat-template subset of Jinja, with Jinja's operator precedence. */
final class Parser {
    /** Real Jinja tags this engine does not implement: named as unsupported, not unknown. */
    private static final Set<String> UNSUPPORTED_TAGS = Set.of(
            "raw",
            "filter",
            "call",
            "include",
            "import",
            "from",
            "extends",
            "block",
            "with",
            "autoescape",
            "do",
            "trans");

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private final List<Token> tokens;
    private final String sourceName;
    private int pos;
    private int loopDepth;

    private Parser(List<Token> tokens, String sourceName) {
        this.tokens = tokens;
        this.sourceName = sourceName;
    }

    static List<Stmt> parse(String source, String sourceName) {
        Parser parser = new Parser(Lexer.tokenize(source, sourceName), sourceName);
        List<Stmt> body = parser.subparse(List.of(), null);
        if (parser.current().kind() != Kind.EOF) {
            throw parser.error("unexpected " + parser.current().describe(), parser.current());
        }
        return body;
    }

    // ---- token helpers

    private Token current() {
        return tokens.get(pos);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private TemplateException error(String detail, Token at) {
        return new TemplateException(detail, sourceName, at.line());
    }

    private Token expect(Kind kind, String text) {
        Token t = current();
        if (t.kind() != kind || (text != null && !t.text().equals(text))) {
            String wanted = text != null
                    ? "'" + text + "'"
                    : kind == Kind.NAME ? "a name" : kind.name().toLowerCase(Locale.ROOT);
            throw error("expected " + wanted + ", got " + t.describe(), t);
        }
        return next();
    }

    private boolean skipOp(String op) {
        if (current().isOp(op)) {
            next();
            return true;
        }
        return false;
    }

    private boolean skipName(String name) {
        if (current().isName(name)) {
            next();
            return true;
        }
        return false;
    }

    // ---- statements

    /**
     * Parses template content until a block tag named in {@code ends} (left unconsumed, positioned on its
     * name) or the end of the template, which is an error when {@code ends} is not empty.
     */
    private List<Stmt> subparse(List<String> ends, Token opener) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = current();
            switch (t.kind()) {
                case DATA:
                    next();
                    body.add(new Stmt.Text(t.line(), t.text()));
                    break;
                case VARIABLE_BEGIN:
                    next();
                    Expr e = parseTuple(true, Set.of(), false);
                    expect(Kind.VARIABLE_END, null);
                    body.add(new Stmt.Output(t.line(), e));
                    break;
                case BLOCK_BEGIN:
                    next();
                    Token tag = current();
                    if (tag.kind() == Kind.NAME && ends.contains(tag.text())) {
                        return body;
                    }
                    body.add(statement(tag, ends, opener));
                    break;
                case EOF:
                    if (!ends.isEmpty()) {
                        throw error(
                                "unexpected end of template, expected " + describeEnds(ends) + " to close the '"
                                        + opener.text() + "' tag of line " + opener.line(),
                                t);
                    }
                    return body;
                default:
                    throw error("unexpected " + t.describe(), t);
            }
        }
    }

    private static String describeEnds(List<String> ends) {
        return String.join(" or ", ends.stream().map(e -> "'" + e + "'").toList());
    }

    private Stmt statement(Token tag, List<String> enclosingEnds, Token opener) {
        if (tag.kind() != Kind.NAME) {
            throw error("tag name expected, got " + tag.describe(), tag);
        }
        next();
        switch (tag.text()) {
            case "if":
                return parseIf(tag);
            case "for":
                return parseFor(tag);
            case "set":
                return parseSet(tag);
            case "macro":
                return parseMacro(tag);
            case "generation": {
                expect(Kind.BLOCK_END, null);
                List<Stmt> body = subparse(List.of("endgeneration"), tag);
                endTag();
                return new Stmt.Generation(tag.line(), body);
            }
            case "break":
            case "continue":
                if (loopDepth == 0) {
                    throw error("'" + tag.text() + "' outside of a for loop", tag);
                }
                expect(Kind.BLOCK_END, null);
                return new Stmt.LoopControl(
                        tag.line(), tag.text().equals("break") ? Stmt.Flow.BREAK : Stmt.Flow.CONTINUE);
            default:
                if (UNSUPPORTED_TAGS.contains(tag.text())) {
                    throw error("tag '" + tag.text() + "' is not supported by this template engine", tag);
                }
                String detail = "unknown tag '" + tag.text() + "'";
                if (!enclosingEnds.isEmpty()) {
                    detail += "; expected " + describeEnds(enclosingEnds) + " to close the '" + opener.text()
                            + "' tag of line " + opener.line();
                }
                throw error(detail, tag);
        }
    }

    /** Consumes an end tag's name (the parser stands on it) and the closing {@code %}}. */
    private void endTag() {
        next();
        expect(Kind.BLOCK_END, null);
    }

    private Stmt parseIf(Token tag) {
        List<Expr> tests = new ArrayList<>();
        List<List<Stmt>> branches = new ArrayList<>();
        List<Stmt> otherwise = List.of();
        tests.add(parseTuple(false, Set.of(), false));
        expect(Kind.BLOCK_END, null);
        List<String> ends = List.of("elif", "else", "endif");
        while (true) {
            branches.add(subparse(ends, tag));
            Token end = next();
            if (end.text().equals("elif")) {
                tests.add(parseTuple(false, Set.of(), false));
                expect(Kind.BLOCK_END, null);
                continue;
            }
            if (end.text().equals("else")) {
                expect(Kind.BLOCK_END, null);
                otherwise = subparse(List.of("endif"), tag);
                endTag();
            } else {
                expect(Kind.BLOCK_END, null);
            }
            return new Stmt.If(tag.line(), tests, branches, otherwise);
        }
    }

    private Stmt parseFor(Token tag) {
        Target target = parseAssignTarget(false);
        expect(Kind.NAME, "in");
        Expr iterable = parseTuple(false, Set.of("recursive"), false);
        Expr filter = null;
        if (skipName("if")) {
            filter = parseExpression(true);
        }
        if (current().isName("recursive")) {
            throw error("recursive for loops are not supported by this template engine", current());
        }
        expect(Kind.BLOCK_END, null);
        loopDepth++;
        List<Stmt> body = subparse(List.of("endfor", "else"), tag);
        loopDepth--;
        List<Stmt> otherwise = List.of();
        if (next().text().equals("else")) {
            expect(Kind.BLOCK_END, null);
            otherwise = subparse(List.of("endfor"), tag);
            next();
        }
        expect(Kind.BLOCK_END, null);
        return new Stmt.For(tag.line(), target, iterable, filter, body, otherwise);
    }

    private Stmt parseSet(Token tag) {
        Target target = parseAssignTarget(true);
        if (skipOp("=")) {
            Expr value = parseTuple(true, Set.of(), false);
            expect(Kind.BLOCK_END, null);
            return new Stmt.Set(tag.line(), target, value);
        }
        if (current().isOp("|")) {
            throw error("filtered set blocks are not supported by this template engine", current());
        }
        expect(Kind.BLOCK_END, null);
        List<Stmt> body = subparse(List.of("endset"), tag);
        endTag();
        return new Stmt.SetBlock(tag.line(), target, body);
    }

    private Target parseAssignTarget(boolean withNamespace) {
        Token first = current();
        if (withNamespace && first.kind() == Kind.NAME && peek(1).isOp(".") && peek(2).kind() == Kind.NAME) {
            next();
            next();
            return new Target.NamespaceAttr(first.text(), next().text());
        }
        List<Target> parts = new ArrayList<>();
        boolean tuple = false;
        while (true) {
            Token name = expect(Kind.NAME, null);
            if (Set.of("true", "false", "none", "True", "False", "None", "in").contains(name.text())) {
                throw error("can't assign to '" + name.text() + "'", name);
            }
            parts.add(new Target.Name(name.text()));
            if (!skipOp(",")) {
                break;
            }
            tuple = true;
            if (current().kind() != Kind.NAME || current().isName("in")) {
                break;
            }
        }
        return tuple ? new Target.Unpack(parts) : parts.get(0);
    }

    private Stmt parseMacro(Token tag) {
        String name = expect(Kind.NAME, null).text();
        expect(Kind.OPERATOR, "(");
        List<String> params = new ArrayList<>();
        Map<String, Expr> defaults = new LinkedHashMap<>();
        while (!current().isOp(")")) {
            if (!params.isEmpty()) {
                expect(Kind.OPERATOR, ",");
                if (current().isOp(")")) {
                    break;
                }
            }
            String param = expect(Kind.NAME, null).text();
            params.add(param);
            if (skipOp("=")) {
                defaults.put(param, parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw error("non-default argument follows default argument", current());
            }
        }
        next();
        expect(Kind.BLOCK_END, null);
        int outerLoops = loopDepth;
        loopDepth = 0;
        List<Stmt> body = subparse(List.of("endmacro"), tag);
        loopDepth = outerLoops;
        endTag();
        return new Stmt.Macro(tag.line(), name, params, defaults, body);
    }

    // ---- expressions (precedence as in jinja2/parser.py)

    /** Comma-separated expressions; more than one (or a trailing comma) make a tuple. */
    private Expr parseTuple(boolean withCondexpr, Set<String> extraEnds, boolean explicitParens) {
        int line = current().line();
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expect(Kind.OPERATOR, ",");
            }
            if (tupleEnds(extraEnds)) {
                break;
            }
            items.add(parseExpression(withCondexpr));
            if (current().isOp(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) {
                return items.get(0);
            }
            if (!explicitParens) {
                throw error("expected an expression, got " + current().describe(), current());
            }
        }
        return new Expr.Collection(line, Expr.Collection.Kind.TUPLE, items, List.of());
    }

    private boolean tupleEnds(Set<String> extraEnds) {
        Token t = current();
        return t.kind() == Kind.VARIABLE_END
                || t.kind() == Kind.BLOCK_END
                || t.kind() == Kind.EOF
                || t.isOp(")")
                || t.isOp("]")
                || t.isOp("}")
                || (t.kind() == Kind.NAME && extraEnds.contains(t.text()));
    }

    private Expr parseExpression(boolean withCondexpr) {
        return withCondexpr ? parseCondexpr() : parseOr();
    }

    private Expr parseCondexpr() {
        Expr expr = parseOr();
        while (current().isName("if")) {
            int line = next().line();
            Expr test = parseOr();
            Expr otherwise = skipName("else") ? parseCondexpr() : null;
            expr = new Expr.Conditional(line, test, expr, otherwise);
        }
        return expr;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (current().isName("or")) {
            int line = next().line();
            left = new Expr.Logic(line, false, left, parseAnd());
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (current().isName("and")) {
            int line = next().line();
            left = new Expr.Logic(line, true, left, parseNot());
        }
        return left;
    }

    private Expr parseNot() {
        if (current().isName("not")) {
            int line = next().line();
            return new Expr.Unary(line, "not", parseNot());
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        int line = current().line();
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = current();
            if (t.kind() == Kind.OPERATOR && COMPARE_OPS.contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && peek(1).isName("in")) {
                next();
                next();
                ops.add("not in");
            } else {
                break;
            }
            operands.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(line, first, ops, operands);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (current().isOp("+") || current().isOp("-")) {
            Token op = next();
            left = new Expr.Binary(op.line(), op.text(), left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        int line = current().line();
        List<Expr> parts = new ArrayList<>();
        parts.add(parseMath2());
        while (skipOp("~")) {
            parts.add(parseMath2());
        }
        return parts.size() == 1 ? parts.get(0) : new Expr.Concat(line, parts);
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (current().isOp("*")
                || current().isOp("/")
                || current().isOp("//")
                || current().isOp("%")) {
            Token op = next();
            left = new Expr.Binary(op.line(), op.text(), left, parsePow());
        }
        return left;
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (current().isOp("**")) {
            Token op = next();
            left = new Expr.Binary(op.line(), "**", left, parseUnary(true));
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Token t = current();
        Expr node;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            node = new Expr.Unary(t.line(), t.text(), parseUnary(false));
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        return withFilter ? parseFilterExpr(node) : node;
    }

    private Expr parsePrimary() {
        Token t = next();
        switch (t.kind()) {
            case NAME:
                switch (t.text()) {
                    case "true":
                    case "True":
                        return new Expr.Const(t.line(), true);
                    case "false":
                    case "False":
                        return new Expr.Const(t.line(), false);
                    case "none":
                    case "None":
                        return new Expr.Const(t.line(), null);
                    default:
                        return new Expr.Name(t.line(), t.text());
                }
            case STRING: {
                StringBuilder s = new StringBuilder(t.text());
                while (current().kind() == Kind.STRING) {
                    s.append(next().text());
                }
                return new Expr.Const(t.line(), s.toString());
            }
            case INTEGER:
                try {
                    return new Expr.Const(t.line(), Long.parseLong(t.text()));
                } catch (NumberFormatException e) {
                    throw error("integer literal " + t.text() + " does not fit in 64 bits", t);
                }
            case FLOAT:
                return new Expr.Const(t.line(), Double.parseDouble(t.text()));
            case OPERATOR:
                if (t.text().equals("(")) {
                    Expr e = parseTuple(true, Set.of(), true);
                    expect(Kind.OPERATOR, ")");
                    return e;
                }
                if (t.text().equals("[")) {
                    return parseList(t);
                }
                if (t.text().equals("{")) {
                    return parseDict(t);
                }
                throw error("unexpected " + t.describe(), t);
            default:
                throw error("unexpected " + t.describe(), t);
        }
    }

    private Expr parseList(Token open) {
        List<Expr> items = new ArrayList<>();
        while (!current().isOp("]")) {
            if (!items.isEmpty()) {
                expect(Kind.OPERATOR, ",");
                if (current().isOp("]")) {
                    break;
                }
            }
            items.add(parseExpression(true));
        }
        next();
        return new Expr.Collection(open.line(), Expr.Collection.Kind.LIST, items, List.of());
    }

    private Expr parseDict(Token open) {
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!current().isOp("}")) {
            if (!keys.isEmpty()) {
                expect(Kind.OPERATOR, ",");
                if (current().isOp("}")) {
                    break;
                }
            }
            keys.add(parseExpression(true));
            expect(Kind.OPERATOR, ":");
            values.add(parseExpression(true));
        }
        next();
        return new Expr.Collection(open.line(), Expr.Collection.Kind.DICT, keys, values);
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOp(".") || t.isOp("[")) {
                node = parseSubscript(node);
            } else if (t.isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = current();
            if (t.isOp("|")) {
                node = parseFilter(node);
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.isOp("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.isOp(".")) {
            Token attr = next();
            if (attr.kind() == Kind.NAME) {
                return new Expr.GetAttr(t.line(), node, attr.text());
            }
            if (attr.kind() == Kind.INTEGER) {
                return new Expr.GetItem(t.line(), node, new Expr.Const(attr.line(), Long.parseLong(attr.text())));
            }
            throw error("expected name or number after '.', got " + attr.describe(), attr);
        }
        List<Expr> keys = new ArrayList<>();
        while (!current().isOp("]")) {
            if (!keys.isEmpty()) {
                expect(Kind.OPERATOR, ",");
            }
            keys.add(parseSubscribed());
        }
        Token close = expect(Kind.OPERATOR, "]");
        if (keys.isEmpty()) {
            throw error("expected a subscript, got ']'", close);
        }
        Expr key = keys.size() == 1
                ? keys.get(0)
                : new Expr.Collection(t.line(), Expr.Collection.Kind.TUPLE, keys, List.of());
        return new Expr.GetItem(t.line(), node, key);
    }

    private Expr parseSubscribed() {
        int line = current().line();
        Expr start = null;
        if (!current().isOp(":")) {
            start = parseExpression(true);
            if (!current().isOp(":")) {
                return start;
            }
        }
        next();
        Expr stop = null;
        if (!current().isOp("]") && !current().isOp(",") && !current().isOp(":")) {
            stop = parseExpression(true);
        }
        Expr step = null;
        if (skipOp(":") && !current().isOp("]") && !current().isOp(",")) {
            step = parseExpression(true);
        }
        return new Expr.Slice(line, start, stop, step);
    }

    private Expr parseCall(Expr node) {
        Token open = expect(Kind.OPERATOR, "(");
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        parseArgs(args, kwargs);
        return new Expr.Call(open.line(), node, args, kwargs);
    }

    /** The inside of {@code ( ... )} after the opening parenthesis, through the closing one. */
    private void parseArgs(List<Expr> args, Map<String, Expr> kwargs) {
        boolean first = true;
        while (!current().isOp(")")) {
            if (!first) {
                expect(Kind.OPERATOR, ",");
                if (current().isOp(")")) {
                    break;
                }
            }
            first = false;
            if (current().isOp("*") || current().isOp("**")) {
                throw error("*args and **kwargs in calls are not supported by this template engine", current());
            }
            if (current().kind() == Kind.NAME && peek(1).isOp("=")) {
                Token key = next();
                next();
                if (kwargs.containsKey(key.text())) {
                    throw error("keyword argument '" + key.text() + "' repeated", key);
                }
                kwargs.put(key.text(), parseExpression(true));
            } else {
                if (!kwargs.isEmpty()) {
                    throw error("positional argument follows keyword argument", current());
                }
                args.add(parseExpression(true));
            }
        }
        next();
    }

    private String dottedName() {
        StringBuilder name = new StringBuilder(expect(Kind.NAME, null).text());
        while (current().isOp(".") && peek(1).kind() == Kind.NAME) {
            next();
            name.append('.').append(next().text());
        }
        return name.toString();
    }

    private Expr parseFilter(Expr node) {
        Token bar = next();
        Token nameToken = current();
        String name = dottedName();
        try {
            Filters.check(name);
        } catch (TemplateException e) {
            throw error(e.detail(), nameToken);
        }
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        if (skipOp("(")) {
            parseArgs(args, kwargs);
        }
        return new Expr.Filter(bar.line(), node, name, args, kwargs);
    }

    private Expr parseTest(Expr node) {
        Token is = next();
        boolean negated = skipName("not");
        Token nameToken = current();
        String name = dottedName();
        try {
            Tests.check(name);
        } catch (TemplateException e) {
            throw error(e.detail(), nameToken);
        }
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        Token t = current();
        if (skipOp("(")) {
            parseArgs(args, kwargs);
        } else if ((t.kind() == Kind.NAME
                        || t.kind() == Kind.STRING
                        || t.kind() == Kind.INTEGER
                        || t.kind() == Kind.FLOAT
                        || t.isOp("(")
                        || t.isOp("[")
                        || t.isOp("{"))
                && !t.isName("else")
                && !t.isName("or")
                && !t.isName("and")) {
            if (t.isName("is")) {
                throw error("You cannot chain multiple tests with is", t);
            }
            args.add(parsePostfix(parsePrimary()));
        }
        return new Expr.Test(is.line(), node, name, args, kwargs, negated);
    }
}
