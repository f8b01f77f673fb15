package dev.distill.tokenizer.jinja;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The functions every template sees: Jinja's {@code range}, {@code namespace}, {@code dict}, and transformers' {@code raise_exception}, {@code strftime_now}. */
final class Globals {
    private Globals() {}

    static Map<String, Object> all() {
        Map<String, Object> globals = new LinkedHashMap<>();
        globals.put("range", (JinjaCallable) Globals::range);
        globals.put("namespace", (JinjaCallable) Globals::namespace);
        globals.put("dict", (JinjaCallable) Globals::dict);
        globals.put("raise_exception", (JinjaCallable) Globals::raiseException);
        globals.put("strftime_now", (JinjaCallable) (args, kw) -> strftime(
                ZonedDateTime.now(),
                PyValues.str(Args.bind("strftime_now", args, kw, "format").required(0))));
        for (String name : List.of("lipsum", "cycler", "joiner")) {
            globals.put(name, (JinjaCallable) (args, kw) -> {
                throw new TemplateException("global function '" + name + "' is not supported by this template engine");
            });
        }
        return globals;
    }

    private static Object range(List<Object> args, Map<String, Object> kwargs) {
        if (!kwargs.isEmpty()) {
            throw new TemplateException("TypeError: range() takes no keyword arguments");
        }
        long[] n = new long[args.size()];
        for (int i = 0; i < n.length; i++) {
            Object a = args.get(i);
            if (!(a instanceof Long || a instanceof Boolean)) {
                throw new TemplateException(
                        "TypeError: '" + PyValues.typeName(a) + "' object cannot be interpreted as an integer");
            }
            n[i] = PyValues.number(a).longValue();
        }
        switch (n.length) {
            case 1:
                return new PyRange(0, n[0], 1);
            case 2:
                return new PyRange(n[0], n[1], 1);
            case 3:
                return new PyRange(n[0], n[1], n[2]);
            default:
                throw new TemplateException("TypeError: range expected 1 to 3 arguments, got " + n.length);
        }
    }

    private static Object namespace(List<Object> args, Map<String, Object> kwargs) {
        Map<Object, Object> initial = new LinkedHashMap<>();
        if (args.size() > 1) {
            throw new TemplateException(
                    "TypeError: namespace expected at most 1 positional argument, got " + args.size());
        }
        if (args.size() == 1) {
            if (!(args.get(0) instanceof Map<?, ?> m)) {
                throw new TemplateException("TypeError: namespace() positional argument must be a mapping");
            }
            initial.putAll(m);
        }
        initial.putAll(kwargs);
        return new Namespace(initial);
    }

    private static Object dict(List<Object> args, Map<String, Object> kwargs) {
        Map<Object, Object> out = new LinkedHashMap<>();
        if (args.size() > 1) {
            throw new TemplateException("TypeError: dict expected at most 1 argument, got " + args.size());
        }
        if (args.size() == 1) {
            if (!(args.get(0) instanceof Map<?, ?> m)) {
                throw new TemplateException("dict() from a non-mapping is not supported by this template engine");
            }
            out.putAll(m);
        }
        out.putAll(kwargs);
        return out;
    }

    private static Object raiseException(List<Object> args, Map<String, Object> kwargs) {
        Object message = Args.bind("raise_exception", args, kwargs, "message").required(0);
        throw new TemplateException(PyValues.str(message));
    }

    /** C-locale {@code strftime} for the directives chat templates use. */
    static String strftime(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'Y':
                    out.append(t.getYear());
                    break;
                case 'y':
                    out.append(String.format(Locale.ROOT, "%02d", t.getYear() % 100));
                    break;
                case 'm':
                    out.append(String.format(Locale.ROOT, "%02d", t.getMonthValue()));
                    break;
                case 'd':
                    out.append(String.format(Locale.ROOT, "%02d", t.getDayOfMonth()));
                    break;
                case 'e':
                    out.append(String.format(Locale.ROOT, "%2d", t.getDayOfMonth()));
                    break;
                case 'j':
                    out.append(String.format(Locale.ROOT, "%03d", t.getDayOfYear()));
                    break;
                case 'H':
                    out.append(String.format(Locale.ROOT, "%02d", t.getHour()));
                    break;
                case 'I':
                    out.append(String.format(Locale.ROOT, "%02d", (t.getHour() + 11) % 12 + 1));
                    break;
                case 'M':
                    out.append(String.format(Locale.ROOT, "%02d", t.getMinute()));
                    break;
                case 'S':
                    out.append(String.format(Locale.ROOT, "%02d", t.getSecond()));
                    break;
                case 'p':
                    out.append(t.getHour() < 12 ? "AM" : "PM");
                    break;
                case 'b':
                    out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                    break;
                case 'B':
                    out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                    break;
                case 'a':
                    out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                    break;
                case 'A':
                    out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                    break;
                case '%':
                    out.append('%');
                    break;
                default:
                    throw new TemplateException(
                            "strftime directive '%" + d + "' is not supported by this template engine");
            }
        }
        return out.toString();
    }
}
