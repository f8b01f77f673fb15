package dev.distill.tools.download;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face hub on a loopback port with the hub's URL layout and headers: the revision API with siblings and
 * LFS sha256, resolve URLs that redirect LFS files to a CDN path honouring Range, 401/404 with X-Error-Code and
 * X-Error-Message, and faults on demand (a connection cut mid-body, a wrong listed sha256 or size, chunked bodies).
 */
final class FakeHub implements AutoCloseable {
    static final String REPO = "org/tiny";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** One recorded request: path (with query), Range and Authorization headers. */
    record Hit(String path, String range, String auth) {}

    final Map<String, byte[]> files = new LinkedHashMap<>();
    final Map<String, String> lfsSha = new LinkedHashMap<>();
    final Map<String, Integer> cutAfter = new ConcurrentHashMap<>();
    final List<Hit> hits = Collections.synchronizedList(new ArrayList<>());
    volatile String requiredToken;
    volatile String listedShaOverride;
    /** Sizes the revision API lists instead of the real ones (the body served stays the real file). */
    final Map<String, Integer> listedSizeOverride = new ConcurrentHashMap<>();
    /** When set, bodies are sent chunked, without a Content-Length. */
    volatile boolean chunked;

    private final HttpServer http;

    FakeHub() throws IOException {
        files.put("config.json", "{\"model_type\": \"llama\", \"vocab_size\": 512}\n".getBytes(StandardCharsets.UTF_8));
        files.put(
                "tokenizer.json",
                "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\"}}\n".getBytes(StandardCharsets.UTF_8));
        files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
        byte[] weights = new byte[300_000];
        new Random(7).nextBytes(weights);
        files.put("model.safetensors", weights);
        files.put("model.safetensors.index.json", "{\"weight_map\": {}}\n".getBytes(StandardCharsets.UTF_8));
        byte[] bin = new byte[1000];
        new Random(8).nextBytes(bin);
        files.put("pytorch_model.bin", bin);
        files.put("onnx/model.safetensors", bin);
        for (String lfs : List.of("model.safetensors", "pytorch_model.bin", "onnx/model.safetensors")) {
            lfsSha.put(lfs, sha256(files.get(lfs)));
        }
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        http.createContext("/", this::handle);
        http.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    List<Hit> hitsUnder(String prefix) {
        synchronized (hits) {
            return hits.stream().filter(h -> h.path().startsWith(prefix)).toList();
        }
    }

    private static final Pattern API = Pattern.compile("/api/models/(.+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/(.+?/.+?)/resolve/([^/]+)/(.+)");

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String query = ex.getRequestURI().getRawQuery();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            hits.add(new Hit(
                    path + (query == null ? "" : "?" + query),
                    ex.getRequestHeaders().getFirst("Range"),
                    auth));
            if (requiredToken != null && !("Bearer " + requiredToken).equals(auth)) {
                error(ex, 401, null, "Invalid credentials in Authorization header");
                return;
            }
            Matcher api = API.matcher(path);
            Matcher resolve = RESOLVE.matcher(path);
            if (api.matches()) {
                if (!api.group(1).equals(REPO)) {
                    error(ex, 404, "RepoNotFound", "Repository not found");
                } else if (!api.group(2).equals("main") && !api.group(2).equals(COMMIT)) {
                    error(ex, 404, "RevisionNotFound", "Invalid rev id: " + api.group(2));
                } else {
                    send(
                            ex,
                            200,
                            Map.of("Content-Type", "application/json"),
                            revisionJson().getBytes(StandardCharsets.UTF_8));
                }
            } else if (resolve.matches()
                    && resolve.group(1).equals(REPO)
                    && resolve.group(2).equals(COMMIT)
                    && files.containsKey(resolve.group(3))) {
                String file = resolve.group(3);
                if (lfsSha.containsKey(file)) {
                    ex.getResponseHeaders().set("Location", "/cdn/" + lfsSha.get(file));
                    ex.getResponseHeaders().set("X-Linked-Size", Integer.toString(files.get(file).length));
                    ex.sendResponseHeaders(302, -1);
                } else {
                    body(ex, file);
                }
            } else if (path.startsWith("/cdn/")) {
                String sha = path.substring(5);
                String file = lfsSha.entrySet().stream()
                        .filter(e -> e.getValue().equals(sha))
                        .map(Map.Entry::getKey)
                        .findFirst()
                        .orElse(null);
                if (file == null) {
                    error(ex, 404, null, "no such blob");
                } else {
                    body(ex, file);
                }
            } else {
                error(ex, 404, "EntryNotFound", "Entry not found");
            }
        }
    }

    /** A file's bytes from the requested offset (206 with Content-Range), cut short once when asked to. */
    private void body(HttpExchange ex, String file) throws IOException {
        byte[] all = files.get(file);
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null) {
            Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (!m.matches() || Integer.parseInt(m.group(1)) >= all.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + all.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            from = Integer.parseInt(m.group(1));
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (all.length - 1) + "/" + all.length);
        }
        ex.getResponseHeaders().set("ETag", "\"" + sha256(all) + "\"");
        ex.getResponseHeaders().set("Accept-Ranges", "bytes");
        ex.sendResponseHeaders(range != null ? 206 : 200, chunked ? 0 : all.length - from);
        Integer cut = cutAfter.remove(file);
        OutputStream out = ex.getResponseBody();
        if (cut != null) {
            out.write(all, from, cut);
            out.flush();
            // the exchange ends with bytes missing: the server drops the connection mid-body
            throw new IOException("cut on purpose after " + cut + " bytes");
        }
        out.write(all, from, all.length - from);
        out.close();
    }

    private String revisionJson() {
        StringBuilder s = new StringBuilder("{\"id\":\"" + REPO + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
        int i = 0;
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            s.append(i++ == 0 ? "" : ",")
                    .append("{\"rfilename\":\"")
                    .append(f.getKey())
                    .append("\",\"size\":")
                    .append(listedSizeOverride.getOrDefault(f.getKey(), f.getValue().length))
                    .append(",\"blobId\":\"b")
                    .append(i)
                    .append('"');
            String sha = lfsSha.get(f.getKey());
            if (sha != null) {
                String listed =
                        f.getKey().equals("model.safetensors") && listedShaOverride != null ? listedShaOverride : sha;
                s.append(",\"lfs\":{\"sha256\":\"")
                        .append(listed)
                        .append("\",\"size\":")
                        .append(listedSizeOverride.getOrDefault(f.getKey(), f.getValue().length))
                        .append(",\"pointerSize\":134}");
            }
            s.append('}');
        }
        return s.append("]}").toString();
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("X-Error-Message", message);
        if (code != null) {
            headers.put("X-Error-Code", code);
        }
        send(ex, status, headers, ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
