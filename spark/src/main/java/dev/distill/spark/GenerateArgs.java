package dev.distill.spark;

import dev.distill.cli.CommandLines;
import dev.distill.data.HadoopFs;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.GenerateSpec;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The `distill generate` options a task needs, as command-line arguments (serializable, and exactly what the
 * driver parsed): each task parses them into its own {@link GenerateSpec}. {@code --out} is fully qualified, so
 * executors write where the driver reads whatever their working directory.
 */
record GenerateArgs(List<String> args) implements Serializable {
    private static final long serialVersionUID = 1L;

    GenerateArgs {
        args = List.copyOf(args);
    }

    /** The options of {@code generate} (a mixed-in {@link GenerateCommand}) that {@code parsed} matched. */
    static GenerateArgs of(CommandSpec generate, ParseResult parsed) throws IOException {
        List<String> out = new ArrayList<>();
        for (OptionSpec option : generate.options()) {
            if (!parsed.hasMatchedOption(option) || option.usageHelp() || option.versionHelp()) {
                continue;
            }
            if (option.arity().max() == 0) {
                out.add(option.longestName());
                continue;
            }
            for (String value : option.originalStringValues()) {
                out.add(option.longestName());
                out.add(
                        option.longestName().equals("--out")
                                ? HadoopFs.path(value).toString()
                                : value);
            }
        }
        return new GenerateArgs(out);
    }

    /** The validated spec these arguments describe. */
    GenerateSpec spec() {
        GenerateCommand command = new GenerateCommand();
        CommandLines.create(command, "distill").parseArgs(args.toArray(String[]::new));
        return command.spec();
    }
}
