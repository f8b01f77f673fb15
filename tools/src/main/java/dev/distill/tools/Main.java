package dev.distill.tools;

import dev.distill.cli.CommandLines;
import dev.distill.data.cli.InspectCommand;
import dev.distill.data.cli.ValidateCommand;
import dev.distill.model.Engines;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.serve.ServeCommand;
import dev.distill.tools.download.DownloadCommand;
import dev.distill.tools.export.ExportCommand;
import dev.distill.tools.onpolicy.OnPolicyCommand;
import dev.distill.trainer.EvalCommand;
import dev.distill.trainer.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `distill` command line: each subcommand lives in the module that owns its job. */
@Command(
        name = "distill",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Turn a large teacher language model into a small, fast student.",
        subcommands = {
            DemoCommand.class,
            GenerateCommand.class,
            ServeCommand.class,
            DownloadCommand.class,
            TrainCommand.class,
            EvalCommand.class,
            OnPolicyCommand.class,
            ExportCommand.class,
            InspectCommand.class,
            ValidateCommand.class,
            InitModelCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main); the exit codes are {@link CommandLines}'. */
    public static int run(String... args) {
        Engines.forceOffline();
        return CommandLines.create(new Main(), "distill").execute(args);
    }

    /** Prints the build's version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"distill " + (v == null ? "(development build)" : v)};
        }
    }
}
