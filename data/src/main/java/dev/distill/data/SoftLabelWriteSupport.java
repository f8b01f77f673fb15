package dev.distill.data;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/**
 * Writes {@link SoftLabelRow}s as primitives straight into Parquet's record consumer, in the layout of the shard's
 * version and encoding (v1; v2 plain; v2 compact through {@link CompactLabels}). Footer values known only after the
 * rows (the fidelity summary) come from {@code finalMetadata}.
 */
final class SoftLabelWriteSupport extends WriteSupport<SoftLabelRow> {
    private final ShardMetadata metadata;
    private final Map<String, String> keyValueMetadata;
    private final Supplier<Map<String, String>> finalMetadata;
    /** Whether the shard has the optional text columns ({@link ShardSchema#withText}), after the label columns. */
    private final boolean text;

    private RecordConsumer out;

    SoftLabelWriteSupport(ShardMetadata metadata, Supplier<Map<String, String>> finalMetadata, boolean text) {
        this.metadata = metadata;
        this.keyValueMetadata = new LinkedHashMap<>(metadata.toKeyValues());
        if (metadata.encoding() == LabelEncoding.COMPACT) {
            keyValueMetadata.put(CompactLabels.KEY_LOGPROB_STEP, Double.toString(CompactLabels.LOGPROB_STEP));
        }
        this.finalMetadata = finalMetadata;
        this.text = text;
    }

    @Override
    public WriteContext init(Configuration configuration) {
        MessageType schema = ShardSchema.schemaFor(metadata);
        return new WriteContext(text ? ShardSchema.withText(schema) : schema, keyValueMetadata);
    }

    @Override
    public FinalizedWriteContext finalizeWrite() {
        return new FinalizedWriteContext(finalMetadata.get());
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    @Override
    public void write(SoftLabelRow row) {
        out.startMessage();
        string(0, ShardSchema.SAMPLE_ID, row.sampleId());
        out.startField(ShardSchema.PROMPT_INDEX, 1);
        out.addLong(row.promptIndex());
        out.endField(ShardSchema.PROMPT_INDEX, 1);
        out.startField(ShardSchema.SAMPLE_INDEX, 2);
        out.addInteger(row.sampleIndex());
        out.endField(ShardSchema.SAMPLE_INDEX, 2);
        ints(3, ShardSchema.PROMPT_IDS, row.promptIds());
        ints(4, ShardSchema.COMPLETION_IDS, row.completionIds());
        floats(5, ShardSchema.COMPLETION_LOGPROBS, row.completionLogprobs());
        if (metadata.schemaVersion() == 1) {
            ints(6, ShardSchema.TOPK_IDS, row.topkIds());
            floats(7, ShardSchema.TOPK_LOGPROBS, row.topkLogprobs());
            string(8, ShardSchema.FINISH_REASON, row.finishReason());
        } else if (metadata.encoding() == LabelEncoding.PLAIN) {
            ints(6, ShardSchema.TOPK_IDS, row.topkIds());
            floats(7, ShardSchema.TOPK_LOGPROBS, row.topkLogprobs());
            string(8, ShardSchema.FINISH_REASON, row.finishReason());
            ints(9, ShardSchema.LABEL_SIZES, sizes(row));
            ints(10, ShardSchema.LABEL_COUNTS, row.labelCounts() == null ? new int[0] : row.labelCounts());
        } else {
            CompactLabels.Encoded e = CompactLabels.encode(row, CompactLabels.LOGPROB_STEP);
            ints(6, ShardSchema.LABEL_SIZES, row.labelSizes());
            ints(7, CompactLabels.ID_DELTAS, e.idDeltas());
            ints(8, CompactLabels.LOGPROB_CODES, e.codes());
            floats(9, CompactLabels.LOGPROB_MAX, e.maxima());
            ints(10, ShardSchema.LABEL_COUNTS, e.counts());
            string(11, ShardSchema.FINISH_REASON, row.finishReason());
        }
        if (text) {
            int base = ShardSchema.schemaFor(metadata).getFieldCount(); // the text columns follow the label columns
            TextSpans spans = row.text();
            string(base, ShardSchema.PROMPT_TEXT, spans.promptText());
            out.startField(ShardSchema.COMPLETION_TEXT, base + 1);
            out.addBinary(Binary.fromConstantByteArray(spans.completionText()));
            out.endField(ShardSchema.COMPLETION_TEXT, base + 1);
            ints(base + 2, ShardSchema.COMPLETION_BYTE_ENDS, spans.byteEnds());
        }
        out.endMessage();
    }

    /** The row's sizes; a row without them (written unchecked, e.g. by tests) has top_k entries per position. */
    private int[] sizes(SoftLabelRow row) {
        if (row.labelSizes() != null) {
            return row.labelSizes();
        }
        int[] sizes = new int[row.completionIds().length];
        java.util.Arrays.fill(sizes, metadata.topK());
        return sizes;
    }

    private void string(int index, String name, String value) {
        out.startField(name, index);
        out.addBinary(Binary.fromString(value));
        out.endField(name, index);
    }

    private void ints(int index, String name, int[] values) {
        out.startField(name, index);
        out.startGroup();
        if (values.length > 0) {
            out.startField("list", 0);
            for (int v : values) {
                out.startGroup();
                out.startField("element", 0);
                out.addInteger(v);
                out.endField("element", 0);
                out.endGroup();
            }
            out.endField("list", 0);
        }
        out.endGroup();
        out.endField(name, index);
    }

    private void floats(int index, String name, float[] values) {
        out.startField(name, index);
        out.startGroup();
        if (values.length > 0) {
            out.startField("list", 0);
            for (float v : values) {
                out.startGroup();
                out.startField("element", 0);
                out.addFloat(v);
                out.endField("element", 0);
                out.endGroup();
            }
            out.endField("list", 0);
        }
        out.endGroup();
        out.endField(name, index);
    }
}
