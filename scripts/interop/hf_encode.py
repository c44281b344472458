"""Encode strings with a Hugging Face tokenizer.json (test/interop/tokenizer.test.ts).

    python scripts/interop/hf_encode.py <tokenizer.json> <strings.json>

strings.json is a JSON list of strings; prints a JSON list of id lists (special tokens matched in the text,
no template added: `encode(s, add_special_tokens=False)`), then the decoded strings on a second line.
"""

import json
import sys

import tokenizers


def main():
    tok = tokenizers.Tokenizer.from_file(sys.argv[1])
    strings = json.load(open(sys.argv[2], encoding="utf-8"))
    encs = tok.encode_batch(strings, add_special_tokens=False)
    print(json.dumps([e.ids for e in encs]))
    print(json.dumps(tok.decode_batch([e.ids for e in encs], skip_special_tokens=False)))


if __name__ == "__main__":
    main()
