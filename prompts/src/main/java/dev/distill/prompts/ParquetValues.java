package dev.distill.prompts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.Type;

/**
 * Converts a Parquet row (as parquet's example {@link Group}) into plain Java values: structs become maps, LIST
 * groups (standard 3-level, or the legacy 2-level forms) become lists, strings are decoded strictly as UTF-8.
 */
final class ParquetValues {
    private ParquetValues() {}

    /** The fields of {@code group} that have a value. */
    static Map<String, Object> struct(Group group) throws Utf8.InvalidUtf8 {
        GroupType type = group.getType();
        Map<String, Object> out = new LinkedHashMap<>();
        for (int f = 0; f < type.getFieldCount(); f++) {
            Type field = type.getType(f);
            int count = group.getFieldRepetitionCount(f);
            if (field.isRepetition(Type.Repetition.REPEATED)) {
                List<Object> values = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    values.add(value(group, f, i, field));
                }
                out.put(field.getName(), values);
            } else if (count > 0) {
                out.put(field.getName(), value(group, f, 0, field));
            }
        }
        return out;
    }

    private static Object value(Group group, int field, int i, Type type) throws Utf8.InvalidUtf8 {
        if (!type.isPrimitive()) {
            Group child = group.getGroup(field, i);
            return type.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation
                    ? list(child)
                    : struct(child);
        }
        return switch (type.asPrimitiveType().getPrimitiveTypeName()) {
            case BINARY, FIXED_LEN_BYTE_ARRAY -> string(group.getBinary(field, i), type);
            case INT32 -> group.getInteger(field, i);
            case INT64 -> group.getLong(field, i);
            case FLOAT -> group.getFloat(field, i);
            case DOUBLE -> group.getDouble(field, i);
            case BOOLEAN -> group.getBoolean(field, i);
            default -> group.getValueToString(field, i);
        };
    }

    private static String string(Binary binary, Type type) throws Utf8.InvalidUtf8 {
        byte[] bytes = binary.getBytes();
        try {
            return Utf8.decode(bytes, 0, bytes.length);
        } catch (Utf8.InvalidUtf8 e) {
            throw new Utf8.InvalidUtf8("column " + type.getName() + ": " + e.getMessage());
        }
    }

    /** A LIST group: one repeated child, which is the element itself (2-level) or wraps it (3-level). */
    private static List<Object> list(Group listGroup) throws Utf8.InvalidUtf8 {
        Type repeated = listGroup.getType().getType(0);
        int count = listGroup.getFieldRepetitionCount(0);
        List<Object> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (repeated.isPrimitive()
                    || isTwoLevelElement(
                            repeated.asGroupType(), listGroup.getType().getName())) {
                out.add(value(listGroup, 0, i, repeated));
            } else {
                Group wrapper = listGroup.getGroup(0, i);
                out.add(
                        wrapper.getFieldRepetitionCount(0) == 0
                                ? null
                                : value(wrapper, 0, 0, repeated.asGroupType().getType(0)));
            }
        }
        return out;
    }

    /** The Parquet spec's backward-compatibility rules for a repeated group inside a LIST. */
    private static boolean isTwoLevelElement(GroupType repeated, String listName) {
        return repeated.getFieldCount() > 1
                || repeated.getName().equals("array")
                || repeated.getName().equals(listName + "_tuple");
    }
}
