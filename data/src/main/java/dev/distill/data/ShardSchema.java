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
    /** Version 2: the number of stored entries of each completion position. */
    public static final String LABEL_SIZES = "label_sizes";
    /** Version 2: the number of draws of each entry ({@code sample:N}); empty lists for other kinds. */
    public static final String LABEL_COUNTS = "label_counts";

    public static final String PROMPT_TEXT = "prompt_text";
    public static final String COMPLETION_TEXT = "completion_text";
    public static final String COMPLETION_BYTE_ENDS = "completion_byte_ends";

    /** Every logical column a reader can ask for, in file order of a plain version-2 shard. */
    public static final List<String> COLUMNS = List.of(
            SAMPLE_ID,
            PROMPT_INDEX,
            SAMPLE_INDEX,
            PROMPT_IDS,
            COMPLETION_IDS,
            COMPLETION_LOGPROBS,
            TOPK_IDS,
            TOPK_LOGPROBS,
            FINISH_REASON,
            LABEL_SIZES,
            LABEL_COUNTS);

    /** The columns version 1 does not have (readers of a v1 shard get null there). */
    public static final List<String> V2_ONLY = List.of(LABEL_SIZES, LABEL_COUNTS);

    /** The columns every version starts with. */
    static final String COMMON_FIELDS =
            """
            required binary sample_id (STRING);
            required int64 prompt_index;
            required int32 sample_index;
            """
                    + list(PROMPT_IDS, "int32") + list(COMPLETION_IDS, "int32") + list(COMPLETION_LOGPROBS, "float");

    /** Version 1. Lists use the standard 3-level LIST encoding, so pyarrow, DuckDB and Spark read them as list&lt;int32&gt; / list&lt;float&gt;. */
    public static final MessageType SCHEMA_V1 = message(COMMON_FIELDS + list(TOPK_IDS, "int32")
            + list(TOPK_LOGPROBS, "float") + "required binary finish_reason (STRING);\n");

    /** Version 2, plain encoding: version 1 plus the per-position sizes and the draw counts. */
    public static final MessageType SCHEMA = message(COMMON_FIELDS + list(TOPK_IDS, "int32")
            + list(TOPK_LOGPROBS, "float") + "required binary finish_reason (STRING);\n" + list(LABEL_SIZES, "int32")
            + list(LABEL_COUNTS, "int32"));

    /** A required 3-level LIST column of {@code type} elements. */
    static String list(String name, String type) {
        return "required group " + name + " (LIST) { repeated group list { required " + type + " element; } }\n";
    }

    /** The shard message of these field declarations. */
    static MessageType message(String fields) {
        return MessageTypeParser.parseMessageType("message distill_soft_labels {\n" + fields + "}\n");
    }

    /** The schema a shard with {@code meta} is written with. */
    public static MessageType schemaFor(ShardMetadata meta) {
        if (meta.schemaVersion() == 1) {
            return SCHEMA_V1;
        }
        return meta.encoding() == LabelEncoding.COMPACT ? CompactLabels.SCHEMA : SCHEMA;
    }

    /** The optional text columns ({@code distill generate --store-spans}), in file order after the label columns. */
    public static final List<String> TEXT_COLUMNS = List.of(PROMPT_TEXT, COMPLETION_TEXT, COMPLETION_BYTE_ENDS);

    /** The optional text columns, in Parquet's schema language; any version and encoding may carry them. */
    static final String TEXT_FIELDS =
            """
            optional binary prompt_text (STRING);
            optional binary completion_text;
            optional group completion_byte_ends (LIST) { repeated group list { required int32 element; } }
            """;

    /** The text columns alone, for their types. */
    static final MessageType TEXT_SCHEMA = message(TEXT_FIELDS);

    /** {@code schema} plus the optional text columns: a shard written with {@code --store-spans}. */
    public static MessageType withText(MessageType schema) {
        return schema.union(TEXT_SCHEMA);
    }

    /** Whether a shard's file schema has the text columns. */
    public static boolean hasText(MessageType fileSchema) {
        return TEXT_COLUMNS.stream().allMatch(fileSchema::containsField);
    }

    private ShardSchema() {}

    /**
     * The part of {@code fileSchema} holding {@code columns}, checked to have the types of {@code expectedSchema}
     * (the schema of the file's version and encoding; lists may use any field names and optional/required
     * repetition, as other writers produce). Columns of the file that are not requested, including optional columns
     * other writers add, are ignored.
     *
     * @throws IllegalArgumentException naming the file and the missing or mistyped column
     */
    public static MessageType project(
            MessageType fileSchema, MessageType expectedSchema, List<String> columns, String source) {
        Type[] fields = new Type[columns.size()];
        for (int i = 0; i < fields.length; i++) {
            String name = columns.get(i);
            Type expected = expectedSchema.containsField(name)
                    ? expectedSchema.getType(name)
                    : TEXT_SCHEMA.containsField(name) ? TEXT_SCHEMA.getType(name) : null;
            if (expected == null) {
                throw new IllegalArgumentException("unknown shard column: " + name);
            }
            if (!fileSchema.containsField(name)) {
                throw new IllegalArgumentException(source + ": column " + name + " is missing");
            }
            Type actual = fileSchema.getType(name);
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
        if (actual.isPrimitive()
                || !(actual.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation)) {
            return false;
        }
        GroupType list = actual.asGroupType();
        if (list.getFieldCount() != 1
                || !list.getType(0).isRepetition(Type.Repetition.REPEATED)
                || list.getType(0).isPrimitive()) {
            return false;
        }
        GroupType repeated = list.getType(0).asGroupType();
        PrimitiveType expectedElement =
                expected.asGroupType().getType(0).asGroupType().getType(0).asPrimitiveType();
        return repeated.getFieldCount() == 1
                && repeated.getType(0).isPrimitive()
                && !repeated.getType(0).isRepetition(Type.Repetition.REPEATED)
                && samePrimitive(expectedElement, repeated.getType(0).asPrimitiveType());
    }

    private static boolean samePrimitive(PrimitiveType expected, PrimitiveType actual) {
        PrimitiveTypeName name = expected.getPrimitiveTypeName();
        return actual.getPrimitiveTypeName() == name
                && (name != PrimitiveTypeName.BINARY
                        || expected.getLogicalTypeAnnotation() == null
                        || actual.getLogicalTypeAnnotation()
                                instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation);
    }
}
