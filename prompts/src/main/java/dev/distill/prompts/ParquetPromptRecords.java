package dev.distill.prompts;

import dev.distill.data.HadoopFs;
import dev.distill.data.ParquetRecords;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/** Records of a Parquet corpus (e.g. a Hugging Face datasets export), streamed one row group at a time: record {@code i} is row {@code i}. */
final class ParquetPromptRecords implements RecordStream {
    private final ParquetRecords<Group> rows;
    private final PromptSourceOptions options;
    private long next;

    private ParquetPromptRecords(ParquetRecords<Group> rows, PromptSourceOptions options) {
        this.rows = rows;
        this.options = options;
    }

    /** Opens {@code file}, reading only the prompt, messages, text and response columns. */
    static ParquetPromptRecords open(Path file, PromptSourceOptions options) throws IOException {
        ParquetFileReader reader =
                ParquetRecords.openFile(new org.apache.hadoop.fs.Path(file.toUri()), HadoopFs.conf());
        MessageType schema = reader.getFileMetaData().getSchema();
        Set<String> promptColumns =
                new LinkedHashSet<>(List.of(options.promptField(), PromptFields.MESSAGES, PromptFields.TEXT));
        List<Type> wanted = new ArrayList<>();
        for (String column : promptColumns) {
            if (schema.containsField(column)) {
                wanted.add(schema.getType(column));
            }
        }
        if (wanted.isEmpty()) {
            reader.close();
            List<String> columns =
                    schema.getFields().stream().map(Type::getName).toList();
            throw new IllegalArgumentException(file + " has no column \"" + options.promptField() + "\", \""
                    + PromptFields.MESSAGES + "\" or \"" + PromptFields.TEXT + "\" (columns: "
                    + String.join(", ", columns) + "); choose one with the prompt field option");
        }
        if (schema.containsField(options.responseField()) && !promptColumns.contains(options.responseField())) {
            wanted.add(schema.getType(options.responseField()));
        }
        MessageType requested = new MessageType(schema.getName(), wanted);
        return new ParquetPromptRecords(
                new ParquetRecords<>(
                        reader,
                        requested,
                        new GroupRecordConverter(requested),
                        file.getFileName().toString()),
                options);
    }

    @Override
    public PromptRecord next() {
        if (!rows.hasNext()) {
            return null;
        }
        Group row = rows.next();
        long index = next++;
        Map<String, Object> fields;
        try {
            fields = ParquetValues.struct(row);
        } catch (Utf8.InvalidUtf8 e) {
            return PromptRecord.invalid(index, SkipReport.INVALID_UTF8, e.getMessage());
        }
        return PromptFields.toRecord(index, fields, options);
    }

    @Override
    public long skipTo(long target) {
        if (target > next) {
            next += rows.skip(target - next);
        }
        return next;
    }

    @Override
    public void close() throws IOException {
        rows.close();
    }
}
