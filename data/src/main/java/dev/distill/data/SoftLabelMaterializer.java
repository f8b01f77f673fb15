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
 * the requested schema are read; the others come back empty (arrays), 0 (numbers) or null (strings, and the
 * version-2 label sizes and counts). The columns of the compact encoding are decoded into the logical ones.
 */
final class SoftLabelMaterializer extends RecordMaterializer<SoftLabelRow> {
    private final Root root;

    /** @param compactStep the compact encoding's log-probability step, or NaN for a plain shard */
    SoftLabelMaterializer(MessageType requested, double compactStep) {
        this.root = new Root(requested, compactStep);
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
        private final IntList labelSizes = new IntList();
        private final IntList labelCounts = new IntList();
        private final IntList logprobCodes = new IntList();
        private final FloatList logprobMax = new FloatList();
        private final boolean readsSizes;
        private final boolean readsCounts;
        private final boolean compactLabels;
        private final double compactStep;
        private String promptText;
        private byte[] completionText;
        private final IntList byteEnds = new IntList();
        private SoftLabelRow row;

        Root(MessageType requested, double compactStep) {
            this.compactStep = compactStep;
            readsSizes = requested.containsField(ShardSchema.LABEL_SIZES);
            readsCounts = requested.containsField(ShardSchema.LABEL_COUNTS);
            compactLabels = requested.containsField(CompactLabels.LOGPROB_CODES);
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
                case ShardSchema.LABEL_SIZES -> labelSizes.converter();
                case ShardSchema.LABEL_COUNTS -> labelCounts.converter();
                case CompactLabels.ID_DELTAS -> topkIds.converter();
                case CompactLabels.LOGPROB_CODES -> logprobCodes.converter();
                case CompactLabels.LOGPROB_MAX -> logprobMax.converter();
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
            labelSizes.size = 0;
            labelCounts.size = 0;
            logprobCodes.size = 0;
            logprobMax.size = 0;
        }

        @Override
        public void end() {
            int[] sizes = readsSizes ? labelSizes.toArray() : null;
            int[] ids = topkIds.toArray();
            float[] logprobs;
            if (compactLabels) {
                int[] codes = logprobCodes.toArray();
                long total = 0;
                for (int s : sizes) {
                    total += s;
                }
                if (total != ids.length || total != codes.length || sizes.length != logprobMax.size) {
                    throw new IllegalArgumentException("compact label columns disagree: sum(label_sizes) " + total
                            + ", "
                            + CompactLabels.ID_DELTAS + " " + ids.length + ", " + CompactLabels.LOGPROB_CODES + " "
                            + codes.length + ", " + CompactLabels.LOGPROB_MAX + " " + logprobMax.size + " for "
                            + sizes.length + " positions");
                }
                logprobs = CompactLabels.decode(sizes, ids, codes, logprobMax.toArray(), compactStep);
            } else {
                logprobs = topkLogprobs.toArray();
            }
            row = new SoftLabelRow(
                    sampleId,
                    promptIndex,
                    sampleIndex,
                    promptIds.toArray(),
                    completionIds.toArray(),
                    completionLogprobs.toArray(),
                    ids,
                    logprobs,
                    finishReason,
                    sizes,
                    readsCounts && labelCounts.size > 0 ? labelCounts.toArray() : null,
                    completionText == null
                            ? null
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
