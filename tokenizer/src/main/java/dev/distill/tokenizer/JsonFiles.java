package dev.distill.tokenizer;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the JSON files of a tokenizer directory; a broken file is reported with its line and column. */
final class JsonFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {}

    static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static JsonNode parse(Path file, byte[] content) {
        try {
            JsonNode node = JSON.readTree(content);
            if (node == null || node.isMissingNode()) {
                throw new TokenizerException(file + ": invalid JSON: the file is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new TokenizerException(file + ": invalid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The parsed file, or {@code null} when it does not exist. */
    static JsonNode parseIfPresent(Path file) {
        return Files.isRegularFile(file) ? parse(file, bytes(file)) : null;
    }
}
