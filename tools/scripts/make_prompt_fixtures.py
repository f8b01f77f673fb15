#!/usr/bin/env python3
"""Writes the Parquet prompt-corpus fixtures of the prompts module's tests, the way Hugging Face datasets exports
look (pyarrow writer, nullable columns, list<struct<role, content>> chats, several row groups).

Usage: tools/scripts/make_prompt_fixtures.py   (writes prompts/src/test/resources/dev/distill/prompts/*.parquet)
"""
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "prompts", "src", "test", "resources", "dev", "distill", "prompts")

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])


def chats():
    rows = [
        {"prompt": "What is 2 + 2?", "messages": None, "response": "4"},
        {"prompt": None, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}],
         "response": None},
        {"prompt": None, "messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}],
         "response": None},
        {"prompt": "   ", "messages": None, "response": None},
        {"prompt": None, "messages": None, "response": "orphan"},
        {"prompt": "Capital of Italy?", "messages": None, "response": "Rome."},
        {"prompt": "Spell 'cat' backwards.", "messages": None, "response": None},
        {"prompt": "Largest planet?", "messages": None, "response": "Jupiter."},
        {"prompt": None, "messages": [], "response": None},
        {"prompt": "Last one: say bye.", "messages": None, "response": "Bye!"},
    ]
    schema = pa.schema([("prompt", pa.string()), ("messages", pa.list_(MESSAGE)), ("response", pa.string())])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, os.path.join(OUT, "chat-export.parquet"), row_group_size=3, compression="zstd")


def questions():
    rows = [{"question": f"Question number {i}?", "text": f"Text {i} to continue", "id": i} for i in range(7)]
    table = pa.Table.from_pylist(rows)
    # Legacy list naming ("item" elements) on an extra list column, as older pyarrow versions wrote.
    table = table.append_column("tags", pa.array([["a", "b"]] * 7, pa.list_(pa.string())))
    pq.write_table(table, os.path.join(OUT, "questions-export.parquet"), row_group_size=2,
                   use_compliant_nested_type=False)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    chats()
    questions()
    for name in sorted(os.listdir(OUT)):
        if name.endswith(".parquet"):
            print(name, pq.ParquetFile(os.path.join(OUT, name)).schema)
