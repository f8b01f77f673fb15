package dev.distill.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional text columns (--store-spans): round trip, readers that ignore them, the writer's checks. */
class TextSpansTest {
    @TempDir
    Path tmp;

    private static List<String> allColumns() {
        List<String> c = new ArrayList<>(ShardSchema.COLUMNS);
        c.addAll(ShardSchema.TEXT_COLUMNS);
        return c;
    }

    @Test
    void textColumnsRoundTripAndReadersNotAskingForThemSeeNone() throws Exception {
        String file = tmp.resolve("s.parquet").toString();
        List<SoftLabelRow> rows = List.of(TestRows.withText(TestRows.row(1, 0)), TestRows.withText(TestRows.row(2, 1)));
        try (ShardWriter w = ShardWriter.create(file, TestRows.metadata("h"), 1 << 20, true)) {
            for (SoftLabelRow r : rows) {
                w.write(r);
            }
            w.commit();
        }
        try (ShardReader r = ShardReader.open(HadoopFs.path(file), allColumns())) {
            assertTrue(ShardSchema.hasText(r.fileSchema()));
            List<SoftLabelRow> read = new ArrayList<>();
            r.forEach(read::add);
            assertEquals(
                    rows.stream().map(row -> TestRows.asReadV2(row, TestRows.K)).toList(), read);
        }
        try (ShardReader r = ShardReader.open(HadoopFs.path(file), ShardSchema.COLUMNS)) {
            SoftLabelRow first = r.iterator().next();
            assertNull(first.text());
            assertEquals(TestRows.asReadV2(rows.get(0).withText(null), TestRows.K), first);
        }
    }

    @Test
    void aCompactVersion2ShardCarriesTheTextColumnsAfterItsLabelColumns() throws Exception {
        ShardMetadata plain = TestRows.metadata("h");
        ShardMetadata compact = new ShardMetadata(
                plain.schemaVersion(),
                plain.topK(),
                plain.vocabSize(),
                "h",
                plain.teacher(),
                plain.teacherFingerprint(),
                plain.tokenizerSha256(),
                plain.chatTemplateSha256(),
                plain.corpusSha256(),
                plain.logits(),
                LabelEncoding.COMPACT);
        String file = tmp.resolve("c.parquet").toString();
        List<SoftLabelRow> rows = List.of(TestRows.withText(TestRows.row(1, 0)), TestRows.withText(TestRows.row(2, 1)));
        try (ShardWriter w = ShardWriter.create(file, compact, 1 << 20, true)) {
            for (SoftLabelRow r : rows) {
                w.write(r);
            }
            w.commit();
        }
        try (ShardReader r = ShardReader.open(HadoopFs.path(file), allColumns())) {
            assertEquals(compact, r.metadata());
            assertTrue(ShardSchema.hasText(r.fileSchema()));
            // the text columns follow the compact encoding's label columns
            assertEquals(CompactLabels.SCHEMA.getFieldCount(), r.fileSchema().getFieldIndex(ShardSchema.PROMPT_TEXT));
            int i = 0;
            for (SoftLabelRow back : r) {
                assertEquals(rows.get(i).text(), back.text());
                assertArrayEquals(rows.get(i).completionIds(), back.completionIds());
                i++;
            }
            assertEquals(rows.size(), i);
        }
    }

    @Test
    void theWriterRefusesSpansThatDoNotCoverTheText() throws Exception {
        SoftLabelRow good = TestRows.withText(TestRows.row(1, 0));
        int[] ends = good.text().byteEnds().clone();
        ends[ends.length - 1]--;
        SoftLabelRow bad = good.withText(new TextSpans("p", good.text().completionText(), ends));
        try (ShardWriter w =
                ShardWriter.create(tmp.resolve("s.parquet").toString(), TestRows.metadata("h"), 1 << 20, true)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.write(bad));
            assertEquals(
                    "s.parquet row 0 (sample 1-0): completion_byte_ends ends at " + ends[ends.length - 1]
                            + ", but completion_text has " + (ends[ends.length - 1] + 1)
                            + " bytes (the spans must cover it exactly)",
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> w.write(TestRows.row(2, 0)), "a row without text");
        }
    }
}
