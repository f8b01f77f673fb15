package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The Python methods templates may call on strings, dicts, lists and tuples ({@code s.strip()}, {@code d.items()}). */
final class Methods {
    private Methods() {}

    private static final Set<String> STR_METHODS = Set.of(
            "capitalize",
            "casefold",
            "center",
            "count",
            "encode",
            "endswith",
            "expandtabs",
            "find",
            "format",
            "format_map",
            "index",
            "isalnum",
            "isalpha",
            "isascii",
            "isdecimal",
            "isdigit",
            "isidentifier",
            "islower",
            "isnumeric",
            "isprintable",
            "isspace",
            "istitle",
            "isupper",
            "join",
            "ljust",
            "lower",
            "lstrip",
            "maketrans",
            "partition",
            "removeprefix",
            "removesuffix",
            "replace",
            "rfind",
            "rindex",
            "rjust",
            "rpartition",
            "rsplit",
            "rstrip",
            "split",
            "splitlines",
            "startswith",
            "strip",
            "swapcase",
            "title",
            "translate",
            "upper",
            "zfill");
    private static final Set<String> DICT_METHODS = Set.of(
            "clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST_METHODS =
            Set.of("append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort");
    private static final Set<String> LIST_MUTATORS =
            Set.of("append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort");

    /**
     * The bound method {@code receiver.name}, or {@code null} when the receiver's type has no such method
     * (then the name is a dict key or undefined). Methods that would mutate are refused, as Jinja's immutable
     * sandbox does; real Python methods this engine lacks are errors, never silently undefined.
     */
    static JinjaCallable lookup(Object receiver, String name) {
        if (receiver instanceof String s && STR_METHODS.contains(name)) {
            return (args, kwargs) -> string(s, name, args, kwargs);
        }
        if (receiver instanceof Map<?, ?> m && DICT_METHODS.contains(name)) {
            refuseMutation(DICT_MUTATORS.contains(name), name, receiver);
            return (args, kwargs) -> dict(m, name, args, kwargs);
        }
        if ((receiver instanceof List || receiver instanceof PyTuple)
                && (LIST_METHODS.contains(name)
                        && (receiver instanceof List || name.equals("count") || name.equals("index")))) {
            refuseMutation(LIST_MUTATORS.contains(name), name, receiver);
            List<Object> items = PyValues.items(receiver);
            return (args, kwargs) -> sequence(items, PyValues.typeName(receiver), name, args, kwargs);
        }
        return null;
    }

    private static void refuseMutation(boolean mutates, String name, Object receiver) {
        if (mutates) {
            throw new TemplateException("SecurityError: access to attribute '" + name + "' of '"
                    + PyValues.typeName(receiver) + "' object is unsafe.");
        }
    }

    private static TemplateException unsupported(String type, String name) {
        return new TemplateException("method " + type + "." + name + "() is not supported by this template engine");
    }

    private static Object string(String s, String name, List<Object> args, Map<String, Object> kwargs) {
        String fn = "str." + name;
        switch (name) {
            case "strip":
            case "lstrip":
            case "rstrip": {
                String chars = Args.bind(fn, args, kwargs, "chars").string(0, null);
                return PyStrings.strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
            }
            case "split":
            case "rsplit": {
                Args a = Args.bind(fn, args, kwargs, "sep", "maxsplit");
                String sep = a.string(0, null);
                long max = a.integer(1, -1);
                return name.equals("split") ? PyStrings.split(s, sep, max) : PyStrings.rsplit(s, sep, max);
            }
            case "splitlines":
                return PyStrings.splitlines(
                        s, Args.bind(fn, args, kwargs, "keepends").truthy(0, false));
            case "startswith":
            case "endswith": {
                Object prefix = Args.bind(fn, args, kwargs, "prefix").required(0);
                List<Object> options = prefix instanceof PyTuple t ? t.items() : List.of(prefix);
                for (Object option : options) {
                    if (!(option instanceof String o)) {
                        throw new TemplateException("TypeError: " + name
                                + " first arg must be str or a tuple of str, not " + PyValues.typeName(option));
                    }
                    if (name.equals("startswith") ? s.startsWith(o) : s.endsWith(o)) {
                        return true;
                    }
                }
                return false;
            }
            case "upper":
                Args.bind(fn, args, kwargs);
                return PyStrings.upper(s);
            case "lower":
                Args.bind(fn, args, kwargs);
                return PyStrings.lower(s);
            case "title":
                Args.bind(fn, args, kwargs);
                return PyStrings.title(s);
            case "capitalize":
                Args.bind(fn, args, kwargs);
                return PyStrings.capitalize(s);
            case "swapcase":
                Args.bind(fn, args, kwargs);
                return PyStrings.swapcase(s);
            case "replace": {
                Args a = Args.bind(fn, args, kwargs, "old", "new", "count");
                return replace(s, a.string(0, null), a.string(1, null), a.integer(2, -1));
            }
            case "find":
            case "rfind":
            case "index":
            case "rindex": {
                String sub = Args.bind(fn, args, kwargs, "sub").string(0, null);
                if (sub == null) {
                    throw new TemplateException("TypeError: " + fn + "() missing required argument 'sub'");
                }
                int at = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
                if (at < 0 && name.endsWith("index")) {
                    throw new TemplateException("ValueError: substring not found");
                }
                return (long) PyStrings.toCodePointIndex(s, at);
            }
            case "count": {
                String sub = Args.bind(fn, args, kwargs, "sub").string(0, "");
                if (sub.isEmpty()) {
                    return (long) PyStrings.length(s) + 1;
                }
                long n = 0;
                for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
                    n++;
                }
                return n;
            }
            case "join": {
                List<Object> items =
                        PyValues.items(Args.bind(fn, args, kwargs, "iterable").required(0));
                StringBuilder out = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof String item)) {
                        throw new TemplateException("TypeError: sequence item " + i + ": expected str instance, "
                                + PyValues.typeName(items.get(i)) + " found");
                    }
                    out.append(i == 0 ? "" : s).append(item);
                }
                return out.toString();
            }
            case "removeprefix": {
                String p = Args.bind(fn, args, kwargs, "prefix").string(0, "");
                return s.startsWith(p) ? s.substring(p.length()) : s;
            }
            case "removesuffix": {
                String p = Args.bind(fn, args, kwargs, "suffix").string(0, "");
                return !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            }
            case "isdigit":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace);
            case "islower":
                Args.bind(fn, args, kwargs);
                return PyStrings.isAllCase(s, true);
            case "isupper":
                Args.bind(fn, args, kwargs);
                return PyStrings.isAllCase(s, false);
            default:
                throw unsupported("str", name);
        }
    }

    private static String replace(String s, String old, String replacement, long count) {
        if (old == null || replacement == null) {
            throw new TemplateException("TypeError: str.replace() takes at least 2 arguments");
        }
        if (count < 0) {
            return s.replace(old, replacement);
        }
        if (old.isEmpty()) {
            throw new TemplateException(
                    "str.replace() with an empty pattern and a count is not supported by this template engine");
        }
        StringBuilder out = new StringBuilder();
        int start = 0;
        for (long n = 0; n < count; n++) {
            int at = s.indexOf(old, start);
            if (at < 0) {
                break;
            }
            out.append(s, start, at).append(replacement);
            start = at + old.length();
        }
        return out.append(s.substring(start)).toString();
    }

    private static Object dict(Map<?, ?> m, String name, List<Object> args, Map<String, Object> kwargs) {
        String fn = "dict." + name;
        switch (name) {
            case "get": {
                Args a = Args.bind(fn, args, kwargs, "key", "default");
                Object key = a.required(0);
                return m.containsKey(key) ? m.get(key) : a.get(1, null);
            }
            case "items": {
                Args.bind(fn, args, kwargs);
                List<Object> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(PyTuple.of(k, v)));
                return new DictView("items", items);
            }
            case "keys":
                Args.bind(fn, args, kwargs);
                return new DictView("keys", new ArrayList<>(m.keySet()));
            case "values":
                Args.bind(fn, args, kwargs);
                return new DictView("values", new ArrayList<>(m.values()));
            default:
                throw unsupported("dict", name);
        }
    }

    private static Object sequence(
            List<Object> items, String type, String name, List<Object> args, Map<String, Object> kwargs) {
        String fn = type + "." + name;
        switch (name) {
            case "count": {
                Object x = Args.bind(fn, args, kwargs, "value").required(0);
                return items.stream().filter(i -> PyValues.eq(i, x)).count();
            }
            case "index": {
                Object x = Args.bind(fn, args, kwargs, "value").required(0);
                for (int i = 0; i < items.size(); i++) {
                    if (PyValues.eq(items.get(i), x)) {
                        return (long) i;
                    }
                }
                throw new TemplateException("ValueError: " + PyValues.repr(x) + " is not in " + type);
            }
            default:
                throw unsupported(type, name);
        }
    }
}
