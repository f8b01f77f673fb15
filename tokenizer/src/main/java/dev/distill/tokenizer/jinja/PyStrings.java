package dev.distill.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Python {@code str} semantics on Java strings: code-point indexing, whitespace, split, strip, case. */
final class PyStrings {
    private PyStrings() {}

    /** Python's {@code str.isspace()} for one code point. */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D)
                || (cp >= 0x1C && cp <= 0x20)
                || cp == 0x85
                || cp == 0xA0
                || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028
                || cp == 0x2029
                || cp == 0x202F
                || cp == 0x205F
                || cp == 0x3000;
    }

    static boolean isLineBreak(int cp) {
        return cp == '\n'
                || cp == '\r'
                || cp == 0x0B
                || cp == 0x0C
                || (cp >= 0x1C && cp <= 0x1E)
                || cp == 0x85
                || cp == 0x2028
                || cp == 0x2029;
    }

    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }

    static String fromCodePoints(int[] cps, int from, int to) {
        return new String(cps, from, to - from);
    }

    /** The code-point index of UTF-16 index {@code utf16}, or -1 when it is -1. */
    static int toCodePointIndex(String s, int utf16) {
        return utf16 < 0 ? -1 : s.codePointCount(0, utf16);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int[] cps = codePoints(s);
        int from = 0;
        int to = cps.length;
        while (left && from < to && stripped(cps[from], chars)) {
            from++;
        }
        while (right && to > from && stripped(cps[to - 1], chars)) {
            to--;
        }
        return fromCodePoints(cps, from, to);
    }

    /** Python's {@code str.split(sep, maxsplit)}; {@code sep == null} splits on whitespace runs. */
    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int[] cps = codePoints(s);
            int i = 0;
            while (true) {
                while (i < cps.length && isSpace(cps[i])) {
                    i++;
                }
                if (i >= cps.length) {
                    break;
                }
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    int end = cps.length;
                    while (end > i && isSpace(cps[end - 1])) {
                        end--;
                    }
                    out.add(fromCodePoints(cps, i, end));
                    break;
                }
                int start = i;
                while (i < cps.length && !isSpace(cps[i])) {
                    i++;
                }
                out.add(fromCodePoints(cps, start, i));
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("ValueError: empty separator");
        }
        int start = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int at = s.indexOf(sep, start);
            if (at < 0) {
                break;
            }
            out.add(s.substring(start, at));
            start = at + sep.length();
        }
        out.add(s.substring(start));
        return out;
    }

    /** Python's {@code str.rsplit(sep, maxsplit)}. */
    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) {
            return split(s, sep, maxsplit);
        }
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int[] cps = codePoints(s);
            int i = cps.length;
            while (true) {
                while (i > 0 && isSpace(cps[i - 1])) {
                    i--;
                }
                if (i <= 0) {
                    break;
                }
                if (out.size() == maxsplit) {
                    int begin = 0;
                    while (begin < i && isSpace(cps[begin])) {
                        begin++;
                    }
                    out.add(0, fromCodePoints(cps, begin, i));
                    break;
                }
                int end = i;
                while (i > 0 && !isSpace(cps[i - 1])) {
                    i--;
                }
                out.add(0, fromCodePoints(cps, i, end));
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("ValueError: empty separator");
        }
        int end = s.length();
        while (out.size() < maxsplit) {
            int at = s.lastIndexOf(sep, end - sep.length());
            if (at < 0) {
                break;
            }
            out.add(0, s.substring(at + sep.length(), end));
            end = at;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    /** Python's {@code str.splitlines(keepends)}. */
    static List<Object> splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isLineBreak(c)) {
                int next = (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') ? i + 2 : i + 1;
                out.add(s.substring(start, keepends ? next : i));
                start = next;
                i = next;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    private static String titleCase(int cp) {
        String upper = upper(new String(Character.toChars(cp)));
        return upper.codePointCount(0, upper.length()) == 1
                ? new String(Character.toChars(Character.toTitleCase(cp)))
                : upper;
    }

    /** Python's {@code str.title()}: a letter after an uncased character starts a word. */
    static String title(String s) {
        StringBuilder out = new StringBuilder();
        boolean previousCased = false;
        for (int cp : codePoints(s)) {
            String one = new String(Character.toChars(cp));
            out.append(previousCased ? lower(one) : titleCase(cp));
            previousCased = isCased(cp);
        }
        return out.toString();
    }

    /** Python's {@code str.capitalize()}: first character title-cased, the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + lower(s.substring(Character.charCount(first)));
    }

    static String swapcase(String s) {
        StringBuilder out = new StringBuilder();
        for (int cp : codePoints(s)) {
            String one = new String(Character.toChars(cp));
            out.append(Character.isUpperCase(cp) ? lower(one) : Character.isLowerCase(cp) ? upper(one) : one);
        }
        return out.toString();
    }

    /** Python's {@code str.islower()} ({@code lower=true}) or {@code str.isupper()}. */
    static boolean isAllCase(String s, boolean lower) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (lower
                    ? (Character.isUpperCase(cp) || Character.isTitleCase(cp))
                    : (Character.isLowerCase(cp) || Character.isTitleCase(cp))) {
                return false;
            }
            cased |= isCased(cp);
        }
        return cased;
    }

    /** Jinja's {@code title} filter: upper-case the first letter after {@code -}, whitespace or an opening bracket. */
    static String jinjaTitle(String s) {
        StringBuilder out = new StringBuilder();
        int[] cps = codePoints(s);
        int i = 0;
        while (i < cps.length) {
            int start = i;
            boolean delimiter = isTitleDelimiter(cps[i]);
            while (i < cps.length && isTitleDelimiter(cps[i]) == delimiter) {
                i++;
            }
            String item = fromCodePoints(cps, start, i);
            int first = item.codePointAt(0);
            out.append(upper(new String(Character.toChars(first))))
                    .append(lower(item.substring(Character.charCount(first))));
        }
        return out.toString();
    }

    private static boolean isTitleDelimiter(int cp) {
        return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || isSpace(cp);
    }
}
