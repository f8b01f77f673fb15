#!/usr/bin/env python3
"""Train the project's tiny byte-level BPE tokenizer (vocab exactly 512) for the tiny test models.

Writes fixtures/tokenizers/tiny/{tokenizer.json,tokenizer_config.json,special_tokens_map.json}:
specials <|endoftext|> (id 0, also pad), <|im_start|> (1), <|im_end|> (2, eos), a plain ChatML
chat template. Needs the Python `tokenizers` and `transformers` packages; the build never runs it.

    python3 tools/scripts/make_tiny_tokenizer.py
"""
import json
import pathlib

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "tokenizers" / "tiny"
VOCAB_SIZE = 512
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CHAT_TEMPLATE = (
    "{%- for message in messages %}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "{{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)

INSTRUCTIONS = [
    "Write a short poem about the sea.",
    "Explain how a binary search works.",
    "What is the capital of France?",
    "Summarize the following paragraph in one sentence.",
    "Translate 'good morning' into Spanish.",
    "List three uses for a paper clip.",
    "How many days are there in a leap year?",
    "Give me a recipe for pancakes.",
    "Why is the sky blue?",
    "Describe the water cycle for a ten year old.",
    "What does the acronym CPU stand for?",
    "Write a function that reverses a string.",
    "Compare cats and dogs as pets.",
    "Suggest a name for a coffee shop.",
    "What is the difference between weather and climate?",
    "Explain recursion with an example.",
    "How do I sort a list of numbers in Python?",
    "Tell me a fun fact about octopuses.",
    "What are the primary colors?",
    "Plan a three day trip to the mountains.",
]

ANSWERS = [
    "The sea is wide and deep and blue, it sings a song both old and new.",
    "Binary search looks at the middle element, then keeps the half that can still hold the answer.",
    "The capital of France is Paris.",
    "The paragraph says that small steps, taken every day, add up to large changes.",
    "Good morning in Spanish is 'buenos dias'.",
    "You can use a paper clip as a bookmark, a hook, or a tool to reset a device.",
    "A leap year has 366 days.",
    "Mix flour, milk, eggs and a pinch of salt, then cook small rounds in a hot pan.",
    "Sunlight is scattered by the air, and blue light is scattered the most.",
    "Water rises from the sea as vapour, forms clouds, falls as rain and flows back to the sea.",
    "CPU stands for central processing unit.",
    "def reverse(text):\n    return text[::-1]\n",
    "Cats are independent and quiet; dogs are social and need daily walks.",
    "How about 'The Daily Grind' or 'Bean There'?",
    "Weather is what happens today; climate is the pattern over many years.",
    "A function that calls itself: factorial(n) = n * factorial(n - 1), with factorial(0) = 1.",
    "numbers = [3, 1, 2]\nnumbers.sort()\nprint(numbers)  # [1, 2, 3]\n",
    "An octopus has three hearts and blue blood.",
    "Red, yellow and blue are the traditional primary colors.",
    "Day one: hike to the lake. Day two: climb the ridge. Day three: rest and read.",
]

CODE = '''
import json
from pathlib import Path


class Counter:
    """Counts words in a file."""

    def __init__(self, path):
        self.path = Path(path)
        self.counts = {}

    def run(self):
        for line in self.path.read_text().splitlines():
            for word in line.split():
                self.counts[word] = self.counts.get(word, 0) + 1
        return self.counts


if __name__ == "__main__":
    print(json.dumps(Counter("notes.txt").run(), indent=2))

public static int add(int a, int b) {
    return a + b;
}

for (int i = 0; i < 10; i++) {
    System.out.println("i = " + i);
}
'''


def corpus():
    """A few KB of varied English: chat turns, questions, numbers and code."""
    lines = []
    for i, (question, answer) in enumerate(zip(INSTRUCTIONS, ANSWERS)):
        lines.append(f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n")
        lines.append(f"Question {i + 1}: {question}\nAnswer: {answer}\n")
        lines.append(f"{question.lower()} {answer.upper()} {i * 37 % 1000} + {i * 11} = {i * 48}\n")
    lines.append(CODE)
    return lines


def main():
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    assert tokenizer.get_vocab_size() == VOCAB_SIZE, tokenizer.get_vocab_size()
    for i, special in enumerate(SPECIALS):
        assert tokenizer.token_to_id(special) == i, special

    OUT.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(OUT / "tokenizer.json"))
    added = {
        str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
        for i, s in enumerate(SPECIALS)
    }
    config = {
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "model_max_length": 2048,
        "pad_token": "<|endoftext|>",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": None,
    }
    special_map = {
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
    }
    for name, value in [("tokenizer_config.json", config), ("special_tokens_map.json", special_map)]:
        (OUT / name).write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    from transformers import AutoTokenizer

    check = AutoTokenizer.from_pretrained(str(OUT))
    assert len(check) == VOCAB_SIZE and check.eos_token_id == 2 and check.pad_token_id == 0
    print(f"wrote {OUT} (vocab {len(check)})")


if __name__ == "__main__":
    main()
