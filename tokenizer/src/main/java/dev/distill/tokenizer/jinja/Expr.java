package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An expression of the template AST; evaluation errors are placed at the expression's line. */
abstract class Expr {
    final int line;

    Expr(int line) {
        this.line = line;
    }

    final Object eval(Frame frame) {
        try {
            return evaluate(frame);
        } catch (TemplateException e) {
            throw e.at(frame.sourceName(), line);
        }
    }

    abstract Object evaluate(Frame frame);

    static List<Object> evalAll(List<Expr> exprs, Frame frame) {
        List<Object> out = new ArrayList<>();
        for (Expr e : exprs) {
            out.add(e.eval(frame));
        }
        return out;
    }

    static Map<String, Object> evalAll(Map<String, Expr> exprs, Frame frame) {
        Map<String, Object> out = new LinkedHashMap<>();
        exprs.forEach((k, e) -> out.put(k, e.eval(frame)));
        return out;
    }

    /** A literal: string, number, true/false/none. */
    static final class Const extends Expr {
        final Object value;

        Const(int line, Object value) {
            super(line);
            this.value = value;
        }

        @Override
        Object evaluate(Frame frame) {
            return value;
        }
    }

    /** A variable reference. */
    static final class Name extends Expr {
        final String name;

        Name(int line, String name) {
            super(line);
            this.name = name;
        }

        @Override
        Object evaluate(Frame frame) {
            return frame.lookup(name);
        }
    }

    /** {@code [a, b]}, {@code (a, b)} or {@code {k: v}}. */
    static final class Collection extends Expr {
        enum Kind {
            LIST,
            TUPLE,
            DICT
        }

        final Kind kind;
        final List<Expr> items;
        final List<Expr> values;

        Collection(int line, Kind kind, List<Expr> items, List<Expr> values) {
            super(line);
            this.kind = kind;
            this.items = items;
            this.values = values;
        }

        @Override
        Object evaluate(Frame frame) {
            List<Object> evaluated = evalAll(items, frame);
            switch (kind) {
                case LIST:
                    return evaluated;
                case TUPLE:
                    return new PyTuple(evaluated);
                default:
                    Map<Object, Object> map = new LinkedHashMap<>();
                    List<Object> vals = evalAll(values, frame);
                    for (int i = 0; i < evaluated.size(); i++) {
                        map.put(evaluated.get(i), vals.get(i));
                    }
                    return map;
            }
        }
    }

    /** {@code obj.name}. */
    static final class GetAttr extends Expr {
        final Expr obj;
        final String name;

        GetAttr(int line, Expr obj, String name) {
            super(line);
            this.obj = obj;
            this.name = name;
        }

        @Override
        Object evaluate(Frame frame) {
            return PyOps.getattr(obj.eval(frame), name);
        }
    }

    /** {@code obj[key]}. */
    static final class GetItem extends Expr {
        final Expr obj;
        final Expr key;

        GetItem(int line, Expr obj, Expr key) {
            super(line);
            this.obj = obj;
            this.key = key;
        }

        @Override
        Object evaluate(Frame frame) {
            return PyOps.getitem(obj.eval(frame), key.eval(frame));
        }
    }

    /** The {@code start:stop:step} inside brackets. */
    static final class Slice extends Expr {
        final Expr start;
        final Expr stop;
        final Expr step;

        Slice(int line, Expr start, Expr stop, Expr step) {
            super(line);
            this.start = start;
            this.stop = stop;
            this.step = step;
        }

        private static Long bound(Expr e, Frame frame) {
            if (e == null) {
                return null;
            }
            Object v = e.eval(frame);
            if (v == null) {
                return null;
            }
            if (v instanceof Long || v instanceof Boolean) {
                return PyValues.number(v).longValue();
            }
            if (v instanceof Undefined u) {
                throw u.error();
            }
            throw new TemplateException(
                    "TypeError: slice indices must be integers or None, not " + PyValues.typeName(v));
        }

        @Override
        Object evaluate(Frame frame) {
            return new PySlice(bound(start, frame), bound(stop, frame), bound(step, frame));
        }
    }

    /** {@code fn(args, key=value)}. */
    static final class Call extends Expr {
        final Expr fn;
        final List<Expr> args;
        final Map<String, Expr> kwargs;

        Call(int line, Expr fn, List<Expr> args, Map<String, Expr> kwargs) {
            super(line);
            this.fn = fn;
            this.args = args;
            this.kwargs = kwargs;
        }

        @Override
        Object evaluate(Frame frame) {
            return PyOps.call(fn.eval(frame), evalAll(args, frame), evalAll(kwargs, frame));
        }
    }

    /** {@code value|name(args)}. */
    static final class Filter extends Expr {
        final Expr value;
        final String name;
        final List<Expr> args;
        final Map<String, Expr> kwargs;

        Filter(int line, Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) {
            super(line);
            this.value = value;
            this.name = name;
            this.args = args;
            this.kwargs = kwargs;
        }

        @Override
        Object evaluate(Frame frame) {
            return Filters.apply(name, value.eval(frame), evalAll(args, frame), evalAll(kwargs, frame));
        }
    }

    /** {@code value is [not] name(args)}. */
    static final class Test extends Expr {
        final Expr value;
        final String name;
        final List<Expr> args;
        final Map<String, Expr> kwargs;
        final boolean negated;

        Test(int line, Expr value, String name, List<Expr> args, Map<String, Expr> kwargs, boolean negated) {
            super(line);
            this.value = value;
            this.name = name;
            this.args = args;
            this.kwargs = kwargs;
            this.negated = negated;
        }

        @Override
        Object evaluate(Frame frame) {
            return negated != Tests.apply(name, value.eval(frame), evalAll(args, frame), evalAll(kwargs, frame));
        }
    }

    /** {@code -x}, {@code +x}, {@code not x}. */
    static final class Unary extends Expr {
        final String op;
        final Expr operand;

        Unary(int line, String op, Expr operand) {
            super(line);
            this.op = op;
            this.operand = operand;
        }

        @Override
        Object evaluate(Frame frame) {
            Object v = operand.eval(frame);
            switch (op) {
                case "-":
                    return PyOps.negate(v);
                case "+":
                    return PyOps.plus(v);
                default:
                    return !PyValues.truthy(v);
            }
        }
    }

    /** An arithmetic operator: {@code + - * / // % **}. */
    static final class Binary extends Expr {
        final String op;
        final Expr left;
        final Expr right;

        Binary(int line, String op, Expr left, Expr right) {
            super(line);
            this.op = op;
            this.left = left;
            this.right = right;
        }

        @Override
        Object evaluate(Frame frame) {
            return PyOps.binary(op, left.eval(frame), right.eval(frame));
        }
    }

    /** {@code a and b} / {@code a or b}: short-circuit, returning an operand as Python does. */
    static final class Logic extends Expr {
        final boolean and;
        final Expr left;
        final Expr right;

        Logic(int line, boolean and, Expr left, Expr right) {
            super(line);
            this.and = and;
            this.left = left;
            this.right = right;
        }

        @Override
        Object evaluate(Frame frame) {
            Object l = left.eval(frame);
            return PyValues.truthy(l) == and ? right.eval(frame) : l;
        }
    }

    /** {@code a ~ b ~ c}: string concatenation of every operand (undefined as empty). */
    static final class Concat extends Expr {
        final List<Expr> parts;

        Concat(int line, List<Expr> parts) {
            super(line);
            this.parts = parts;
        }

        @Override
        Object evaluate(Frame frame) {
            StringBuilder out = new StringBuilder();
            for (Expr part : parts) {
                out.append(PyValues.str(part.eval(frame)));
            }
            return out.toString();
        }
    }

    /** A comparison chain {@code a < b <= c}, {@code a in b}, {@code a not in b}. */
    static final class Compare extends Expr {
        final Expr first;
        final List<String> ops;
        final List<Expr> operands;

        Compare(int line, Expr first, List<String> ops, List<Expr> operands) {
            super(line);
            this.first = first;
            this.ops = ops;
            this.operands = operands;
        }

        @Override
        Object evaluate(Frame frame) {
            Object left = first.eval(frame);
            for (int i = 0; i < ops.size(); i++) {
                Object right = operands.get(i).eval(frame);
                if (!compare(ops.get(i), left, right)) {
                    return false;
                }
                left = right;
            }
            return true;
        }

        private static boolean compare(String op, Object a, Object b) {
            switch (op) {
                case "==":
                    return PyValues.eq(a, b);
                case "!=":
                    return !PyValues.eq(a, b);
                case "<":
                    return PyValues.compare(a, b, op) < 0;
                case "<=":
                    return PyValues.compare(a, b, op) <= 0;
                case ">":
                    return PyValues.compare(a, b, op) > 0;
                case ">=":
                    return PyValues.compare(a, b, op) >= 0;
                case "in":
                    return PyOps.contains(b, a);
                default:
                    return !PyOps.contains(b, a);
            }
        }
    }

    /** {@code a if cond else b}; without {@code else} a false condition gives an undefined value. */
    static final class Conditional extends Expr {
        final Expr test;
        final Expr then;
        final Expr otherwise;

        Conditional(int line, Expr test, Expr then, Expr otherwise) {
            super(line);
            this.test = test;
            this.then = then;
            this.otherwise = otherwise;
        }

        @Override
        Object evaluate(Frame frame) {
            if (PyValues.truthy(test.eval(frame))) {
                return then.eval(frame);
            }
            return otherwise != null
                    ? otherwise.eval(frame)
                    : Undefined.because("the inline if-expression on line " + line
                            + " evaluated to false and no else section was defined.");
        }
    }
}
