package dev.distill.spark;

import dev.distill.pipeline.GenerateCommand;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `distill-spark generate`: `distill generate` as a Spark job, one task per missing shard. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Run a teacher over a prompt corpus on a Spark cluster, one task per shard, and write its top-k soft labels"
                    + " into the same Parquet shards as `distill generate`.",
            "Rerunning the same command resumes; a changed configuration is refused, naming the options that differ."
        })
public final class SparkGenerateCommand implements Callable<Integer> {
    private static final String GENERATE = "generate";

    @Option(
            names = "--master",
            paramLabel = "URL",
            description = "Spark master (local[N], spark://..., yarn, k8s://...). Default: spark-submit's --master.")
    String master;

    @Mixin(name = GENERATE)
    GenerateCommand generate;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        GenerateArgs args =
                GenerateArgs.of(spec.mixins().get(GENERATE), spec.commandLine().getParseResult());
        SparkConf conf = new SparkConf().setAppName("distill generate");
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            throw new IllegalArgumentException("--master: no Spark master; pass --master local[*] (or a cluster URL),"
                    + " or run through spark-submit");
        }
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            SparkGenerate.Result result = SparkGenerate.run(jsc, generate.spec(), args);
            System.out.println(result.format());
        }
        return 0;
    }
}
