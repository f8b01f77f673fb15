package dev.distill.pipeline.serve;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.distill.model.CausalLM;
import dev.distill.pipeline.GenerateCommand;
import dev.distill.pipeline.LocalTeacher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;

/** The committed tiny teacher and tokenizer, and `distill generate` run in-process, for the serve and remote tests. */
public final class TestModels {
    private TestModels() {}

    /** The repository root: -Ddistill.repo.root, else the nearest ancestor holding fixtures/ and pom.xml. */
    public static Path root() {
        String prop = System.getProperty("distill.repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("fixtures")) && Files.exists(q.resolve("pom.xml"))) {
                return q;
            }
        }
        throw new IllegalStateException("cannot find the repository's fixtures/ from " + p);
    }

    public static Path llama() {
        return root().resolve("fixtures/models/llama");
    }

    public static Path tinyTokenizer() {
        return root().resolve("fixtures/tokenizers/tiny");
    }

    public static LocalTeacher llamaTeacher() {
        return new LocalTeacher(CausalLM.load(llama(), DataType.FLOAT32, Device.cpu()));
    }

    /** {exit code, stdout, stderr (picocli's error stream and System.err, where the logs go)} of `distill generate`. */
    public static String[] generate(List<String> args) {
        StringWriter err = new StringWriter();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
            CommandLine cli = new CommandLine(new GenerateCommand());
            cli.setErr(new PrintWriter(err));
            cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println(e.getMessage());
                return 1;
            });
            rc = cli.execute(args.toArray(String[]::new));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[] {String.valueOf(rc), out.toString(StandardCharsets.UTF_8),
                err + log.toString(StandardCharsets.UTF_8)};
    }
}
