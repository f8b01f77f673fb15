package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A statement of the template AST; rendering errors are placed at the statement's line. */
abstract class Stmt {
    /** How a statement list ends: normally, or by {@code {% break %}} / {@code {% continue %}}. */
    enum Flow {
        NORMAL,
        BREAK,
        CONTINUE
    }

    final int line;

    Stmt(int line) {
        this.line = line;
    }

    final Flow render(Frame frame, StringBuilder out) {
        try {
            return run(frame, out);
        } catch (TemplateException e) {
            throw e.at(frame.sourceName(), line);
        }
    }

    abstract Flow run(Frame frame, StringBuilder out);

    static Flow renderAll(List<Stmt> body, Frame frame, StringBuilder out) {
        for (Stmt s : body) {
            Flow flow = s.render(frame, out);
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    /** Literal template text. */
    static final class Text extends Stmt {
        final String text;

        Text(int line, String text) {
            super(line);
            this.text = text;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            out.append(text);
            return Flow.NORMAL;
        }
    }

    /** {@code {{ expr }}}. */
    static final class Output extends Stmt {
        final Expr expr;

        Output(int line, Expr expr) {
            super(line);
            this.expr = expr;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            out.append(PyValues.str(expr.eval(frame)));
            return Flow.NORMAL;
        }
    }

    /** {@code {% if %}...{% elif %}...{% else %}...{% endif %}}; the branches share the enclosing scope. */
    static final class If extends Stmt {
        final List<Expr> tests;
        final List<List<Stmt>> branches;
        final List<Stmt> otherwise;

        If(int line, List<Expr> tests, List<List<Stmt>> branches, List<Stmt> otherwise) {
            super(line);
            this.tests = tests;
            this.branches = branches;
            this.otherwise = otherwise;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            for (int i = 0; i < tests.size(); i++) {
                if (PyValues.truthy(tests.get(i).eval(frame))) {
                    return renderAll(branches.get(i), frame, out);
                }
            }
            return renderAll(otherwise, frame, out);
        }
    }

    /** {@code {% for target in iterable [if filter] %}...{% else %}...{% endfor %}}; each iteration is a fresh scope. */
    static final class For extends Stmt {
        final Target target;
        final Expr iterable;
        final Expr filter;
        final List<Stmt> body;
        final List<Stmt> otherwise;

        For(int line, Target target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise) {
            super(line);
            this.target = target;
            this.iterable = iterable;
            this.filter = filter;
            this.body = body;
            this.otherwise = otherwise;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            List<Object> items = PyValues.items(iterable.eval(frame));
            if (filter != null) {
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    Frame scope = frame.child();
                    target.assign(scope, item);
                    if (PyValues.truthy(filter.eval(scope))) {
                        kept.add(item);
                    }
                }
                items = kept;
            }
            // As Jinja compiles it: the else branch runs unless some iteration reached the end of the body,
            // so a loop left only by break/continue also runs it.
            boolean bodyCompleted = false;
            for (int i = 0; i < items.size(); i++) {
                Frame scope = frame.child();
                target.assign(scope, items.get(i));
                scope.set("loop", new LoopContext(items, i));
                Flow flow = renderAll(body, scope, out);
                if (flow == Flow.BREAK) {
                    break;
                }
                bodyCompleted |= flow == Flow.NORMAL;
            }
            return bodyCompleted ? Flow.NORMAL : renderAll(otherwise, frame, out);
        }
    }

    /** {@code {% set target = expr %}}. */
    static final class Set extends Stmt {
        final Target target;
        final Expr value;

        Set(int line, Target target, Expr value) {
            super(line);
            this.target = target;
            this.value = value;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            target.assign(frame, value.eval(frame));
            return Flow.NORMAL;
        }
    }

    /** {@code {% set name %}...{% endset %}}: captures the rendered body. */
    static final class SetBlock extends Stmt {
        final Target target;
        final List<Stmt> body;

        SetBlock(int line, Target target, List<Stmt> body) {
            super(line);
            this.target = target;
            this.body = body;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            StringBuilder captured = new StringBuilder();
            renderAll(body, frame, captured);
            target.assign(frame, captured.toString());
            return Flow.NORMAL;
        }
    }

    /** {@code {% break %}} or {@code {% continue %}}. */
    static final class LoopControl extends Stmt {
        final Flow flow;

        LoopControl(int line, Flow flow) {
            super(line);
            this.flow = flow;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            return flow;
        }
    }

    /** {@code {% generation %}...{% endgeneration %}}: transformers' assistant-mask marker; renders its body. */
    static final class Generation extends Stmt {
        final List<Stmt> body;

        Generation(int line, List<Stmt> body) {
            super(line);
            this.body = body;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            return renderAll(body, frame, out);
        }
    }

    /** {@code {% macro name(a, b=default) %}...{% endmacro %}}: defines a callable in the current scope. */
    static final class Macro extends Stmt {
        final String name;
        final List<String> params;
        final Map<String, Expr> defaults;
        final List<Stmt> body;

        Macro(int line, String name, List<String> params, Map<String, Expr> defaults, List<Stmt> body) {
            super(line);
            this.name = name;
            this.params = params;
            this.defaults = defaults;
            this.body = body;
        }

        @Override
        Flow run(Frame frame, StringBuilder out) {
            frame.set(name, (JinjaCallable) (args, kwargs) -> call(frame, args, kwargs));
            return Flow.NORMAL;
        }

        private String call(Frame defining, List<Object> args, Map<String, Object> kwargs) {
            if (args.size() > params.size()) {
                throw new TemplateException(
                        "TypeError: macro '" + name + "' takes not more than " + params.size() + " argument(s)");
            }
            Frame scope = defining.child();
            for (int i = 0; i < params.size(); i++) {
                String p = params.get(i);
                if (i < args.size()) {
                    if (kwargs.containsKey(p)) {
                        throw new TemplateException(
                                "TypeError: macro '" + name + "' got multiple values for argument '" + p + "'");
                    }
                    scope.set(p, args.get(i));
                } else if (kwargs.containsKey(p)) {
                    scope.set(p, kwargs.get(p));
                } else if (defaults.containsKey(p)) {
                    scope.set(p, defaults.get(p).eval(scope));
                } else {
                    scope.set(p, Undefined.because("parameter '" + p + "' was not provided"));
                }
            }
            for (String k : kwargs.keySet()) {
                if (!params.contains(k)) {
                    throw new TemplateException(
                            "TypeError: macro '" + name + "' takes no keyword argument '" + k + "'");
                }
            }
            StringBuilder out = new StringBuilder();
            renderAll(body, scope, out);
            return out.toString();
        }
    }
}
