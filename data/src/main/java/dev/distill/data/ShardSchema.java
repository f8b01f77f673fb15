package dev.distill.data;

import java.util.List;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/** The Parquet schema of a shard: column names, and the check that a file's schema can be read as one. */
public final class ShardSchema {
    public static final String SAMPLE_ID = "sample_id";
    public static final String PROMPT_INDEX = "prompt_index";
    public static final String SAMPLE_INDEX = "sample_index";
    public static final String PROMPT_IDS = "prompt_ids";
    public static final String COMPLETION_IDS = "completion_ids";
    public static final String COMPLETION_LOGPROBS = "completion_logprobs";
    public static final String TOPK_IDS = "topk_ids";
    public static final String TOPK_LOGPROBS = "topk_logprobs";
    public static final String FINISH_REASON = "finish_reason";
    public static final String PROMPT_TEXT = "prompt_text";
    public static final String COMPLETION_TEXT = "completion_text";
    public static final String COMPLETION_BYTE_ENDS = "completion_byte_ends";

    /** Every column, in file order. */
    public static final List<String> COLUMNS = List.of(
            SAMPLE_ID, PROMPT_INDEX, SAMPLE_INDEX, PROMPT_IDS, COMPLETION_IDS,
            COMPLETION_LOGPROBS, TOPK_IDS, TOPK_LOGPROBS, FINISH_REASON);

    /** The optional text columns ({@code distill generate --store-spans}), in file order after {@link #COLUMNS}. */
    public static final List<String> TEXT_COLUMNS = List.of(PROMPT_TEXT, COMPLETION_TEXT, COMPLETION_BYTE_ENDS);

    /** The required columns, in Parquet's schema language. */
    private static final String REQUIRED_FIELDS = """
              required binary sample_id (STRING);
              required int64 prompt_index;
              required int32 sample_index;
              required group prompt_ids (LIST) { repeated group list { required int32 element; } }
              required group completion_ids (LIST) { repeated group list { required int32 element; } }
              required group completion_logprobs (LIST) { repeated group list { required float element; } }
              required group topk_ids (LIST) { repeated group list { required int32 element; } }
              required group topk_logprobs (LIST) { repeated group list { required float element; } }
              required binary finish_reason (STRING);
            """;

    /** Lists use the standard 3-level LIST encoding, so pyarrow, DuckDB and Spark read them as list&lt;int32&gt; / list&lt;float&gt;. */
    public static final MessageType SCHEMA = MessageTypeParser.parseMessageType(
            "message distill_soft_labels {\n" + REQUIRED_FIELDS + "}\n");

    /** {@link #SCHEMA} plus the optional text columns: a shard written with {@code --store-spans}. */
    public static final MessageType SCHEMA_WITH_TEXT = MessageTypeParser.parseMessageType(
            "message distill_soft_labels {\n" + REQUIRED_FIELDS + """
              optional binary prompt_text (STRING);
              optional binary completion_text;
              optional group completion_byte_ends (LIST) { repeated group list { required int32 element; } }
            }
            """);

    /** Whether a shard's file schema has the text columns. */
    public static boolean hasText(MessageType fileSchema) {
        return TEXT_COLUMNS.stream().allMatch(fileSchema::containsField);
    }

    private ShardSchema() {}

    /**
     * The part of {@code fileSchema} holding {@code columns}, checked to have the shard types (lists may use any
     * field names and optional/required repetition, as other writers produce).
     *
     * @throws IllegalArgumentException naming the file and the missing or mistyped column
     */
    public static MessageType project(MessageType fileSchema, List<String> columns, String source) {
        Type[] fields = new Type[columns.size()];
        for (int i = 0; i < fields.length; i++) {
            String name = columns.get(i);
            if (!SCHEMA_WITH_TEXT.containsField(name)) {
                throw new IllegalArgumentException("unknown shard column: " + name);
            }
            if (!fileSchema.containsField(name)) {
                throw new IllegalArgumentException(source + ": column " + name + " is missing");
            }
            Type actual = fileSchema.getType(name);
            Type expected = SCHEMA_WITH_TEXT.getType(name);
            if (!compatible(expected, actual)) {
                throw new IllegalArgumentException(source + ": column " + name + " has type '"
                        + actual.toString().replaceAll("\\s+", " ").trim() + "', expected '"
                        + expected.toString().replaceAll("\\s+", " ").trim() + "'");
            }
            fields[i] = actual;
        }
        return new MessageType(fileSchema.getName(), fields);
    }

    private static boolean compatible(Type expected, Type actual) {
        if (actual.isRepetition(Type.Repetition.REPEATED)) {
            return false;
        }
        if (expected.isPrimitive()) {
            return actual.isPrimitive() && samePrimitive(expected.asPrimitiveType(), actual.asPrimitiveType());
        }
        if (actual.isPrimitive() || !(actual.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation)) {
            return false;
        }
        GroupType list = actual.asGroupType();
        if (list.getFieldCount() != 1 || !list.getType(0).isRepetition(Type.Repetition.REPEATED) || list.getType(0).isPrimitive()) {
            return false;
        }
        GroupType repeated = list.getType(0).asGroupType();
        PrimitiveType expectedElement = expected.asGroupType().getType(0).asGroupType().getType(0).asPrimitiveType();
        return repeated.getFieldCount() == 1
                && repeated.getType(0).isPrimitive()
                && !repeated.getType(0).isRepetition(Type.Repetition.REPEATED)
                && samePrimitive(expectedElement, repeated.getType(0).asPrimitiveType());
    }

    private static boolean samePrimitive(PrimitiveType expected, PrimitiveType actual) {
        PrimitiveTypeName name = expected.getPrimitiveTypeName();
        return actual.getPrimitiveTypeName() == name
                && (name != PrimitiveTypeName.BINARY || expected.getLogicalTypeAnnotation() == null
                        || actual.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation);
    }
}
