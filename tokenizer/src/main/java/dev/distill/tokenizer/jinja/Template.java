package dev.distill.tokenizer.jinja;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A compiled Jinja template, rendered as transformers renders chat templates: Jinja2 semantics with
 * {@code trim_blocks}, {@code lstrip_blocks}, loop controls, an immutable sandbox, undefined values that
 * print as nothing, and transformers' {@code tojson}, {@code raise_exception} and {@code strftime_now}.
 * Anything outside the supported subset fails with the template name and line; it never renders differently.
 */
public final class Template {
    private final String sourceName;
    private final List<Stmt> body;

    private Template(String sourceName, List<Stmt> body) {
        this.sourceName = sourceName;
        this.body = body;
    }

    /**
     * Parses {@code source}.
     *
     * @param sourceName names the template in error messages, e.g. a file path
     * @throws TemplateException on a syntax error or an unknown/unsupported tag, filter or test
     */
    public static Template compile(String source, String sourceName) {
        return new Template(sourceName, Parser.parse(source, sourceName));
    }

    public String sourceName() {
        return sourceName;
    }

    /**
     * Renders with {@code variables} (Java maps, lists, strings, numbers, booleans and nulls).
     *
     * @throws TemplateException when rendering fails, including {@code raise_exception(...)} from the template
     */
    public String render(Map<String, ?> variables) {
        Map<String, Object> scope = new HashMap<>(Globals.all());
        variables.forEach((name, value) -> scope.put(name, PyValues.fromJava(value)));
        StringBuilder out = new StringBuilder();
        try {
            Stmt.renderAll(body, Frame.root(sourceName, scope).child(), out);
        } catch (TemplateException e) {
            throw e.at(sourceName, 0);
        } catch (StackOverflowError e) {
            throw new TemplateException("recursion too deep (a macro calling itself without end?)", sourceName, 0);
        }
        return out.toString();
    }
}
