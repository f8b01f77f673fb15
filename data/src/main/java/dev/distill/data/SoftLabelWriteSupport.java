package dev.distill.data;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;

/** Writes {@link SoftLabelRow}s as primitives straight into Parquet's record consumer (no intermediate objects). */
final class SoftLabelWriteSupport extends WriteSupport<SoftLabelRow> {
    private final Map<String, String> keyValueMetadata;
    private final boolean text;
    private RecordConsumer out;

    /** @param text whether the shard has the optional text columns ({@link ShardSchema#SCHEMA_WITH_TEXT}) */
    SoftLabelWriteSupport(Map<String, String> keyValueMetadata, boolean text) {
        this.keyValueMetadata = keyValueMetadata;
        this.text = text;
    }

    @Override
    public WriteContext init(Configuration configuration) {
        return new WriteContext(text ? ShardSchema.SCHEMA_WITH_TEXT : ShardSchema.SCHEMA, keyValueMetadata);
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
        ints(6, ShardSchema.TOPK_IDS, row.topkIds());
        floats(7, ShardSchema.TOPK_LOGPROBS, row.topkLogprobs());
        string(8, ShardSchema.FINISH_REASON, row.finishReason());
        if (text) {
            TextSpans spans = row.text();
            string(9, ShardSchema.PROMPT_TEXT, spans.promptText());
            out.startField(ShardSchema.COMPLETION_TEXT, 10);
            out.addBinary(Binary.fromConstantByteArray(spans.completionText()));
            out.endField(ShardSchema.COMPLETION_TEXT, 10);
            ints(11, ShardSchema.COMPLETION_BYTE_ENDS, spans.byteEnds());
        }
        out.endMessage();
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
