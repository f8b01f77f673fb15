package dev.distill.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {

    /** Runs the CLI in-process and returns {exit code, stdout, stderr}. */
    static Object[] runCli(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int rc = Main.run(args);
            return new Object[] {rc, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void unknownOptionIsAUsageErrorWithExitCode2() {
        Object[] r = runCli("--no-such-option");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("Unknown option: '--no-such-option'"), (String) r[2]);
    }

    @Test
    void everySubcommandHasHelp() {
        for (String sub : new String[] {"demo", "generate", "train", "eval", "inspect", "validate", "init-model"}) {
            Object[] r = runCli(sub, "--help");
            assertEquals(0, r[0], sub);
            assertTrue(((String) r[1]).startsWith("Usage: distill " + sub), sub + ": " + r[1]);
        }
    }
}
