package dev.distill.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distill.testing.CliRun;
import org.junit.jupiter.api.Test;

public class MainTest {

    /** `distill ARGS` in-process, through the real entry point. */
    public static CliRun runCli(String... args) {
        return CliRun.capture(() -> Main.run(args));
    }

    @Test
    void unknownOptionIsAUsageErrorWithExitCode2() {
        CliRun r = runCli("--no-such-option");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("Unknown option: '--no-such-option'"), r.err());
    }

    @Test
    void everySubcommandHasHelp() {
        for (String sub : new String[] {
            "demo", "generate", "train", "eval", "onpolicy", "inspect", "validate", "init-model", "export"
        }) {
            CliRun r = runCli(sub, "--help");
            assertEquals(0, r.exitCode(), sub);
            assertTrue(r.out().startsWith("Usage: distill " + sub), sub + ": " + r.out());
        }
    }
}
