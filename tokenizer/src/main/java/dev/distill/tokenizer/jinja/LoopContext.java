package dev.distill.tokenizer.jinja;

import java.util.List;

/** The {@code loop} variable inside {@code {% for %}}: index, first/last, length, neighbours, cycle. */
final class LoopContext implements HasAttributes {
    private final List<Object> items;
    private final int index0;

    LoopContext(List<Object> items, int index0) {
        this.items = items;
        this.index0 = index0;
    }

    @Override
    public Object attribute(String name) {
        int length = items.size();
        switch (name) {
            case "index":
                return (long) index0 + 1;
            case "index0":
                return (long) index0;
            case "revindex":
                return (long) (length - index0);
            case "revindex0":
                return (long) (length - index0 - 1);
            case "first":
                return index0 == 0;
            case "last":
                return index0 == length - 1;
            case "length":
                return (long) length;
            case "depth":
                return 1L;
            case "depth0":
                return 0L;
            case "previtem":
                return index0 > 0 ? items.get(index0 - 1) : Undefined.because("there is no previous item");
            case "nextitem":
                return index0 + 1 < length ? items.get(index0 + 1) : Undefined.because("there is no next item");
            case "cycle":
                return (JinjaCallable) (args, kwargs) -> {
                    if (args.isEmpty()) {
                        throw new TemplateException("TypeError: no items for cycling given");
                    }
                    return args.get(index0 % args.size());
                };
            default:
                return Undefined.member(this, name);
        }
    }

    @Override
    public String toString() {
        return "<LoopContext " + (index0 + 1) + "/" + items.size() + ">";
    }
}
