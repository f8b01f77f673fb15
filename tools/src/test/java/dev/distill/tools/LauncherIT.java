package dev.distill.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.testing.RepoRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Runs the real `tools/distill` launcher against the packaged application, as a user would. */
class LauncherIT {

    static String[] launch(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(
                List.of(RepoRoot.path().resolve("tools/distill").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "launcher timed out");
        return new String[] {String.valueOf(p.exitValue()), out};
    }

    @Test
    void helpListsEverySubcommand() throws Exception {
        String[] r = launch("--help");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].startsWith("Usage: distill"), r[1]);
        for (String sub : new String[] {"demo", "generate", "train", "eval", "inspect", "validate", "init-model"}) {
            assertTrue(r[1].matches("(?s).*\\n  " + sub + " .*"), "missing " + sub + " in:\n" + r[1]);
        }
    }

    @Test
    void unknownSubcommandExitsNonZero() throws Exception {
        String[] r = launch("frobnicate");
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("Unmatched argument at index 0: 'frobnicate'"), r[1]);
    }
}
