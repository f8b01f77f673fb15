package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void rowsAndMetadataSurviveARoundTripThroughSeveralRowGroups() throws Exception {
        List<SoftLabelRow> rows = new ArrayList<>();
        for (int p = 0; p < 300; p++) {
            for (int s = 0; s < 2; s++) {
                rows.add(TestRows.row(p, s));
            }
        }
        String file = dir.resolve("shard.parquet").toString();
        ShardMetadata meta = TestRows.metadata("h".repeat(64));
        try (ShardWriter w = ShardWriter.create(file, meta, 16 << 10)) {
            for (SoftLabelRow r : rows) {
                w.write(r);
            }
            assertTrue(w.commit());
        }
        try (ShardReader reader = ShardReader.open(file)) {
            assertEquals(meta, reader.metadata());
            assertEquals(rows.size(), reader.rowCount());
            assertTrue(
                    reader.rowGroups().size() > 3,
                    "row groups: " + reader.rowGroups().size());
            List<SoftLabelRow> back = new ArrayList<>();
            reader.forEach(back::add);
            // version 2 gives every row its per-position sizes (top_k each); top-k rows have no counts
            List<SoftLabelRow> expected =
                    rows.stream().map(r -> TestRows.asReadV2(r, meta.topK())).toList();
            assertEquals(expected, back);
        }
    }

    @Test
    void theFooterDeclaresStandardListsZstdByteStreamSplitFloatsAndTheDistillMetadata() throws Exception {
        String file = dir.resolve("shard.parquet").toString();
        ShardMetadata meta = TestRows.metadata("h".repeat(64));
        try (ShardWriter w = ShardWriter.create(file, meta, 4 << 10)) {
            for (int p = 0; p < 40; p++) {
                w.write(TestRows.row(p, 0));
            }
            w.commit();
        }
        org.apache.hadoop.fs.Path path =
                new org.apache.hadoop.fs.Path(dir.resolve("shard.parquet").toUri());
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(path, HadoopFs.conf()))) {
            String list =
                    "required group %s (LIST) {\n    repeated group list {\n      required %s element;\n    }\n  }\n";
            String expected = "message distill_soft_labels {\n"
                    + "  required binary sample_id (STRING);\n"
                    + "  required int64 prompt_index;\n"
                    + "  required int32 sample_index;\n"
                    + "  " + list.formatted("prompt_ids", "int32")
                    + "  " + list.formatted("completion_ids", "int32")
                    + "  " + list.formatted("completion_logprobs", "float")
                    + "  " + list.formatted("topk_ids", "int32")
                    + "  " + list.formatted("topk_logprobs", "float")
                    + "  required binary finish_reason (STRING);\n"
                    + "  " + list.formatted("label_sizes", "int32")
                    + "  " + list.formatted("label_counts", "int32")
                    + "}\n";
            assertEquals(expected, reader.getFileMetaData().getSchema().toString());
            Map<String, String> keys = new java.util.HashMap<>(meta.toKeyValues());
            keys.put(Fidelity.KEY, new Fidelity.Accumulator().summary().toFooterValue());
            assertEquals(keys, Map.copyOf(reader.getFileMetaData().getKeyValueMetaData()));
            assertTrue(reader.getRowGroups().size() > 1);
            for (BlockMetaData block : reader.getRowGroups()) {
                assertEquals(11, block.getColumns().size());
                for (ColumnChunkMetaData chunk : block.getColumns()) {
                    assertEquals(
                            CompressionCodecName.ZSTD,
                            chunk.getCodec(),
                            chunk.getPath().toDotString());
                    boolean isFloat = chunk.getPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.FLOAT;
                    assertEquals(
                            isFloat,
                            chunk.getEncodings().contains(Encoding.BYTE_STREAM_SPLIT),
                            chunk.getPath().toDotString());
                    // dictionaries only for the small-alphabet integer columns (docs/shard-format.md); label_counts,
                    // one of them, is empty in a top-k shard and so has no pages at all
                    String column = chunk.getPath().toArray()[0];
                    if (!column.equals("label_counts")) {
                        assertEquals(
                                column.equals("label_sizes"),
                                chunk.hasDictionaryPage(),
                                chunk.getPath().toDotString());
                    }
                }
            }
        }
        assertEquals(
                List.of("shard.parquet"),
                java.util.Arrays.stream(dir.toFile().list()).toList(),
                "no .crc side files");
    }
}
