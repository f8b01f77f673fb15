// Runs GGUF files in llama.cpp through node-llama-cpp (its prebuilt CPU build) for LlamaCppTest.
// usage: node llama-cpp.mjs NODE_LLAMA_CPP_PREFIX JOBS.json   (prints a JSON array, one result per job)
// job: {model, tokenize: [text...], prompt: [id...], greedy: N, probabilities: bool}
// result: {tokens: [[id...]...], greedy: [id...], probabilities: [p(id) for id < vocab] | null}
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const [prefix, jobsFile] = process.argv.slice(2);
const {getLlama, LlamaLogLevel} = await import(
    pathToFileURL(join(prefix, "node_modules", "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const results = [];
for (const job of JSON.parse(readFileSync(jobsFile, "utf8"))) {
    const model = await llama.loadModel({modelPath: job.model});
    const result = {tokens: (job.tokenize ?? []).map(t => Array.from(model.tokenize(t, true))), greedy: [], probabilities: null};
    if (job.prompt) {
        const context = await model.createContext({contextSize: 256, batchSize: 256, threads: 2});
        if (job.probabilities) {
            const sequence = context.getSequence();
            const it = sequence.evaluateWithMetadata(job.prompt, {probabilities: true}, {temperature: 0});
            const first = await it.next();
            await it.return();
            const p = new Array(model.tokens.length ?? model.vocabularyType).fill(0);
            for (const [id, prob] of first.value.probabilities) p[id] = prob;
            result.probabilities = p;
            await sequence.dispose();
        }
        if (job.greedy) {
            const sequence = context.getSequence();
            for await (const t of sequence.evaluate(job.prompt, {temperature: 0})) {
                result.greedy.push(t);
                if (result.greedy.length >= job.greedy) break;
            }
            await sequence.dispose();
        }
        await context.dispose();
    }
    await model.dispose();
    results.push(result);
}
process.stdout.write(JSON.stringify(results));
