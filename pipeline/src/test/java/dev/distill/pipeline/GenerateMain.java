package dev.distill.pipeline;

import dev.distill.cli.CommandLines;

/** `distill generate` as its own process, for the kill -9 test. */
public final class GenerateMain {
    public static void main(String[] args) {
        System.exit(CommandLines.create(new GenerateCommand(), "distill").execute(args));
    }
}
