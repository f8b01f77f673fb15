package dev.distill.data;

import java.util.Arrays;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;

/**
 * Assembles {@link SoftLabelRow}s from Parquet's column readers into reused growable arrays. Only the columns of
 * the requested schema are read; the others come back empty (arrays), 0 (numbers) or null (strings).
 */
final class SoftLabelMaterializer extends RecordMaterializer<SoftLabelRow> {
    private final Root root;

    SoftLabelMaterializer(MessageType requested) {
        this.root = new Root(requested);
    }

    @Override
    public SoftLabelRow getCurrentRecord() {
        return root.row;
    }

    @Override
    public GroupConverter getRootConverter() {
        return root;
    }

    /** The record's top-level group: one converter per requested column. */
    private static final class Root extends GroupConverter {
        private final Converter[] converters;
        private String sampleId;
        private long promptIndex;
        private int sampleIndex;
        private final IntList promptIds = new IntList();
        private final IntList completionIds = new IntList();
        private final FloatList completionLogprobs = new FloatList();
        private final IntList topkIds = new IntList();
        private final FloatList topkLogprobs = new FloatList();
        private String finishReason;
        private String promptText;
        private byte[] completionText;
        private final IntList byteEnds = new IntList();
        private SoftLabelRow row;

        Root(MessageType requested) {
            converters = new Converter[requested.getFieldCount()];
            for (int i = 0; i < converters.length; i++) {
                converters[i] = converterFor(requested.getFieldName(i));
            }
        }

        private Converter converterFor(String column) {
            return switch (column) {
                case ShardSchema.SAMPLE_ID -> new PrimitiveConverter() {
                    @Override
                    public void addBinary(Binary value) {
                        sampleId = value.toStringUsingUTF8();
                    }
                };
                case ShardSchema.PROMPT_INDEX -> new PrimitiveConverter() {
                    @Override
                    public void addLong(long value) {
                        promptIndex = value;
                    }
                };
                case ShardSchema.SAMPLE_INDEX -> new PrimitiveConverter() {
                    @Override
                    public void addInt(int value) {
                        sampleIndex = value;
                    }
                };
                case ShardSchema.PROMPT_IDS -> promptIds.converter();
                case ShardSchema.COMPLETION_IDS -> completionIds.converter();
                case ShardSchema.COMPLETION_LOGPROBS -> completionLogprobs.converter();
                case ShardSchema.TOPK_IDS -> topkIds.converter();
                case ShardSchema.TOPK_LOGPROBS -> topkLogprobs.converter();
                case ShardSchema.FINISH_REASON -> new PrimitiveConverter() {
                    @Override
                    public void addBinary(Binary value) {
                        finishReason = value.toStringUsingUTF8();
                    }
                };
                case ShardSchema.PROMPT_TEXT -> new PrimitiveConverter() {
                    @Override
                    public void addBinary(Binary value) {
                        promptText = value.toStringUsingUTF8();
                    }
                };
                case ShardSchema.COMPLETION_TEXT -> new PrimitiveConverter() {
                    @Override
                    public void addBinary(Binary value) {
                        completionText = value.getBytes();
                    }
                };
                case ShardSchema.COMPLETION_BYTE_ENDS -> byteEnds.converter();
                default -> throw new IllegalArgumentException("unknown shard column: " + column);
            };
        }

        @Override
        public Converter getConverter(int fieldIndex) {
            return converters[fieldIndex];
        }

        @Override
        public void start() {
            sampleId = null;
            finishReason = null;
            promptText = null;
            completionText = null;
            byteEnds.size = 0;
            promptIndex = 0;
            sampleIndex = 0;
            promptIds.size = 0;
            completionIds.size = 0;
            completionLogprobs.size = 0;
            topkIds.size = 0;
            topkLogprobs.size = 0;
        }

        @Override
        public void end() {
            row = new SoftLabelRow(sampleId, promptIndex, sampleIndex, promptIds.toArray(), completionIds.toArray(),
                    completionLogprobs.toArray(), topkIds.toArray(), topkLogprobs.toArray(), finishReason,
                    completionText == null ? null
                            : new TextSpans(promptText == null ? "" : promptText, completionText, byteEnds.toArray()));
        }
    }

    /** A LIST group ({@code group (LIST) { repeated group list { element } }}) of int32, collected into a reused buffer. */
    private static final class IntList {
        private int[] values = new int[256];
        private int size;

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }

        GroupConverter converter() {
            return new ListConverter(new PrimitiveConverter() {
                @Override
                public void addInt(int value) {
                    if (size == values.length) {
                        values = Arrays.copyOf(values, size * 2);
                    }
                    values[size++] = value;
                }
            });
        }
    }

    /** A LIST group of float32, collected into a reused buffer. */
    private static final class FloatList {
        private float[] values = new float[256];
        private int size;

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }

        GroupConverter converter() {
            return new ListConverter(new PrimitiveConverter() {
                @Override
                public void addFloat(float value) {
                    if (size == values.length) {
                        values = Arrays.copyOf(values, size * 2);
                    }
                    values[size++] = value;
                }
            });
        }
    }

    /** The two group levels of a 3-level list, passing each element to {@code element}. */
    private static final class ListConverter extends GroupConverter {
        private final GroupConverter repeated;

        ListConverter(PrimitiveConverter element) {
            this.repeated = new GroupConverter() {
                @Override
                public Converter getConverter(int fieldIndex) {
                    return element;
                }

                @Override
                public void start() {}

                @Override
                public void end() {}
            };
        }

        @Override
        public Converter getConverter(int fieldIndex) {
            return repeated;
        }

        @Override
        public void start() {}

        @Override
        public void end() {}
    }
}
