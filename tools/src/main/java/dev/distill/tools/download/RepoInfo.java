package dev.distill.tools.download;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** A repository at one revision, from the hub's GET /api/models/{repo}/revision/{rev}?blobs=true: its commit and files. */
public record RepoInfo(String repo, String commit, List<RepoFile> files) {

    /** Parses the API's JSON; {@code source} names the request in errors. */
    static RepoInfo parse(String repo, JsonNode json, String source) {
        JsonNode sha = json.get("sha");
        JsonNode siblings = json.get("siblings");
        if (sha == null || !sha.isTextual() || sha.asText().isEmpty()) {
            throw new DownloadException(source + ": the response has no commit \"sha\"");
        }
        if (siblings == null || !siblings.isArray()) {
            throw new DownloadException(source + ": the response has no \"siblings\" file list");
        }
        List<RepoFile> files = new ArrayList<>();
        for (int i = 0; i < siblings.size(); i++) {
            JsonNode s = siblings.get(i);
            JsonNode name = s.get("rfilename");
            if (name == null || !name.isTextual()) {
                throw new DownloadException(source + ": siblings[" + i + "] has no \"rfilename\"");
            }
            JsonNode lfs = s.get("lfs");
            String sha256 =
                    lfs != null && lfs.hasNonNull("sha256") ? lfs.get("sha256").asText() : null;
            Long size = lfs != null && lfs.hasNonNull("size")
                    ? Long.valueOf(lfs.get("size").asLong())
                    : s.hasNonNull("size") ? Long.valueOf(s.get("size").asLong()) : null;
            files.add(new RepoFile(name.asText(), size, sha256));
        }
        return new RepoInfo(repo, sha.asText(), files);
    }
}
