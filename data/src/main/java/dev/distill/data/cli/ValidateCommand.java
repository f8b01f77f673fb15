package dev.distill.data.cli;

import dev.distill.data.RunDirectory;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** `distill validate`: Check every invariant of the shard format in a run directory; non-zero exit on the first violations. */
@Command(
        name = "validate",
        mixinStandardHelpOptions = true,
        description =
                "Check every invariant of the shard format in a run directory; non-zero exit on the first violations.")
public final class ValidateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            index = "0",
            paramLabel = "DIR",
            description = "The run directory (a local path or any Hadoop file system URI).")
    String dir;

    @Option(
            names = "--max-violations",
            defaultValue = "20",
            paramLabel = "N",
            description = "Print at most N violations (default: ${DEFAULT-VALUE}).")
    int maxViolations;

    @Option(names = "--allow-incomplete", description = "Accept a run whose shards are not all committed yet.")
    boolean allowIncomplete;

    @Override
    public Integer call() throws Exception {
        RunDirectory run = RunDirectory.existing(dir);
        Violations violations = new Violations(maxViolations);
        RunValidator validator = new RunValidator(run, violations, allowIncomplete);
        validator.validate();
        PrintWriter out = spec.commandLine().getOut();
        if (violations.count() > 0) {
            violations.first().forEach(out::println);
            if (violations.count() > violations.first().size()) {
                out.println(
                        "... and " + (violations.count() - violations.first().size()) + " more");
            }
            out.println("invalid: " + violations.count()
                    + (violations.count() == 1 ? " violation in " : " violations in ") + dir);
            out.flush();
            return 1;
        }
        String shards = validator.shardsChecked() == run.shardCount()
                ? run.shardCount() + " shards"
                : validator.shardsChecked() + " of " + run.shardCount() + " shards committed";
        String format = validator.metadata() == null
                ? ""
                : String.format(
                        Locale.ROOT,
                        ", logits %s, encoding %s, vocab_size %d, schema version %d",
                        validator.metadata().logits(),
                        validator.metadata().encoding().spelling(),
                        validator.metadata().vocabSize(),
                        validator.metadata().schemaVersion());
        out.println(String.format(
                Locale.ROOT,
                "valid: %s: %s, %,d rows, %,d completion tokens%s",
                dir,
                shards,
                validator.rows(),
                validator.completionTokens(),
                format));
        out.flush();
        return 0;
    }
}
