package dev.distill.tools.download;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.pipeline.remote.RetryPolicy;
import dev.distill.testing.CliRun;
import dev.distill.tools.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `distill download` against a fake hub on a loopback port (the hub's URL layout and headers, no network). */
class HubDownloadTest {
    static final List<String> DEFAULT_FILES =
            List.of("config.json", "model.safetensors", "model.safetensors.index.json", "tokenizer.json");

    FakeHub hub;

    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws IOException {
        hub = new FakeHub();
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubDownloader.Result download(String token, String repo, String revision, List<String> include, Path out)
            throws IOException {
        try (HubClient client = new HubClient(
                hub.endpoint(),
                token,
                new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50)),
                Duration.ofSeconds(5))) {
            return new HubDownloader(client).download(repo, revision, new FileSelection(include), out);
        }
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .map(p -> dir.relativize(p).toString())
                    .sorted()
                    .toList();
        }
    }

    void assertFilesEqualTheHubs(Path out, List<String> names) throws IOException {
        assertEquals(names, listing(out));
        for (String n : names) {
            assertArrayEquals(hub.files.get(n), Files.readAllBytes(out.resolve(n)), n);
        }
    }

    @Test
    void fetchesConfigTokenizerAndSafetensorsThenFindsThemUpToDate() throws IOException {
        Path out = tmp.resolve("model");
        HubDownloader.Result r = download(null, FakeHub.REPO, "main", null, out);
        assertFilesEqualTheHubs(out, DEFAULT_FILES);
        assertEquals(FakeHub.COMMIT, r.commit());
        assertEquals(DEFAULT_FILES.size(), r.fetched().size());
        assertEquals(
                DEFAULT_FILES.stream().mapToLong(n -> hub.files.get(n).length).sum(), r.bytes());
        assertEquals(
                "/api/models/org/tiny/revision/main?blobs=true", hub.hits.get(0).path());
        // files are fetched at the resolved commit; LFS files through the CDN redirect
        String resolve = "/org/tiny/resolve/" + FakeHub.COMMIT + "/model.safetensors";
        assertEquals(
                1,
                hub.hitsUnder(resolve).stream()
                        .filter(h -> h.path().equals(resolve))
                        .count());
        assertEquals(
                1, hub.hitsUnder("/cdn/" + hub.lfsSha.get("model.safetensors")).size());

        hub.hits.clear();
        HubDownloader.Result again = download(null, FakeHub.REPO, "main", null, out);
        assertEquals(List.of(), again.fetched());
        assertEquals(DEFAULT_FILES.size(), again.upToDate().size());
        assertEquals(1, hub.hits.size(), "only the file list was fetched");
    }

    @Test
    void aConnectionCutMidFileResumesWithARangeRequest() throws IOException {
        hub.cutAfter.put("model.safetensors", 100_000);
        Path out = tmp.resolve("model");
        download(null, FakeHub.REPO, "main", null, out);
        assertFilesEqualTheHubs(out, DEFAULT_FILES);
        List<FakeHub.Hit> cdn = hub.hitsUnder("/cdn/");
        assertEquals(2, cdn.size());
        assertEquals(null, cdn.get(0).range());
        assertEquals("bytes=100000-", cdn.get(1).range());
    }

    @Test
    void aPartFileLeftByAnEarlierRunIsContinued() throws IOException {
        Path out = tmp.resolve("model");
        Files.createDirectories(out);
        Files.write(out.resolve("model.safetensors.part"), Arrays.copyOf(hub.files.get("model.safetensors"), 123_456));
        HubDownloader.Result r = download(null, FakeHub.REPO, "main", null, out);
        assertFilesEqualTheHubs(out, DEFAULT_FILES);
        assertEquals("bytes=123456-", hub.hitsUnder("/cdn/").get(0).range());
        long others = DEFAULT_FILES.stream()
                .filter(n -> !n.equals("model.safetensors"))
                .mapToLong(n -> hub.files.get(n).length)
                .sum();
        assertEquals(others + 300_000 - 123_456, r.bytes(), "only the missing bytes were transferred");
    }

    @Test
    void aBodyLongerThanTheListedSizeIsCutOffAndItsPartRemoved() throws IOException {
        int real = hub.files.get("model.safetensors").length;
        hub.listedSizeOverride.put("model.safetensors", 100_000);
        Path out = tmp.resolve("model");
        for (boolean chunked : new boolean[] {false, true}) { // with a Content-Length, and streamed without one
            hub.chunked = chunked;
            DownloadException e = assertThrows(
                    DownloadException.class,
                    () -> download(null, FakeHub.REPO, "main", List.of("model.safetensors"), out));
            assertEquals(
                    "org/tiny/model.safetensors: the server sends more than the 100000 bytes the hub lists"
                            + (chunked ? "" : " (" + real + ")") + "; the download was removed",
                    e.getMessage());
            assertFalse(Files.exists(out.resolve("model.safetensors.part")), "no oversized .part is left");
            assertFalse(Files.exists(out.resolve("model.safetensors")));
        }
        assertEquals(2, hub.hitsUnder("/cdn/").size(), "refused at once, not retried");
    }

    @Test
    void aSha256MismatchFailsAndRemovesTheCorruptDownload() throws IOException {
        String wrong = "ab".repeat(32);
        hub.listedShaOverride = wrong;
        Path out = tmp.resolve("model");
        DownloadException e =
                assertThrows(DownloadException.class, () -> download(null, FakeHub.REPO, "main", null, out));
        assertEquals(
                "org/tiny/model.safetensors: sha256 mismatch: the hub lists " + wrong
                        + ", the downloaded bytes hash to " + hub.lfsSha.get("model.safetensors")
                        + "; the corrupt download was removed, run again to fetch it anew",
                e.getMessage());
        assertFalse(Files.exists(out.resolve("model.safetensors")));
        assertFalse(Files.exists(out.resolve("model.safetensors.part")));
    }

    @Test
    void refusalsSayWhatIsWrongAndWhatToDo() {
        Path out = tmp.resolve("model");
        hub.requiredToken = "hf_right";
        assertEquals(
                "org/tiny: the hub refused access (HTTP 401: Invalid credentials in Authorization header). The"
                        + " repository may be private or gated: set HF_TOKEN to a token that can read it.",
                assertThrows(DownloadException.class, () -> download(null, FakeHub.REPO, "main", null, out))
                        .getMessage());
        assertTrue(assertThrows(DownloadException.class, () -> download("hf_wrong", FakeHub.REPO, "main", null, out))
                .getMessage()
                .endsWith("The token in HF_TOKEN was refused, or it has no access to this repository"
                        + " (gated: accept its terms on the hub)."));
        hub.requiredToken = null;
        assertEquals(
                "org/nope: repository not found at " + hub.endpoint() + "/ (HTTP 404: Repository not found);"
                        + " if it is private, set HF_TOKEN",
                assertThrows(DownloadException.class, () -> download(null, "org/nope", "main", null, out))
                        .getMessage());
        assertEquals(
                "org/tiny: revision 'v9' not found (HTTP 404: Invalid rev id: v9)",
                assertThrows(DownloadException.class, () -> download(null, FakeHub.REPO, "v9", null, out))
                        .getMessage());
        assertFalse(Files.exists(out.resolve("config.json")));
    }

    @Test
    void aTokenIsSentAsBearerAndIncludeGlobsReplaceTheDefaultSet() throws IOException {
        hub.requiredToken = "hf_right";
        Path out = tmp.resolve("json-only");
        download("hf_right", FakeHub.REPO, "main", List.of("*.json"), out);
        assertFilesEqualTheHubs(out, List.of("config.json", "model.safetensors.index.json", "tokenizer.json"));
        assertTrue(hub.hits.stream().allMatch(h -> "Bearer hf_right".equals(h.auth())));
    }

    /** `distill ARGS` in-process, through the real entry point. */
    static CliRun cli(String... args) {
        return CliRun.capture(() -> Main.run(args));
    }

    @Test
    void theCommandLineDownloadsAndReportsErrorsInOneLine() throws IOException {
        Path out = tmp.resolve("cli");
        CliRun ok = cli("download", FakeHub.REPO, "--out", out.toString(), "--endpoint", hub.endpoint());
        assertEquals(0, ok.exitCode(), ok.err());
        assertTrue(
                ok.out()
                        .contains("download: org/tiny@main (commit " + FakeHub.COMMIT + ") -> " + out
                                + "\n  fetched 4 file(s), 293.1 KiB; 0 already up to date"),
                ok.out());
        assertFilesEqualTheHubs(out, DEFAULT_FILES);
        CliRun missing = cli("download", "org/nope", "--out", out.toString(), "--endpoint", hub.endpoint());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().startsWith("distill download: org/nope: repository not found at "), missing.err());
        for (String sub : new String[] {"download", "serve"}) {
            CliRun help = cli(sub, "--help");
            assertEquals(0, help.exitCode(), sub);
            assertTrue(help.out().startsWith("Usage: distill " + sub), sub + ": " + help.out());
        }
    }
}
