package dev.distill.pipeline;

import picocli.CommandLine;

/** `distill generate` as its own process, for the kill -9 test. */
public final class GenerateMain {
    public static void main(String[] args) {
        System.exit(new CommandLine(new GenerateCommand()).execute(args));
    }
}
