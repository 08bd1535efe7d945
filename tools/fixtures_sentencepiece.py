#!/usr/bin/env python3
"""SentencePiece parity fixtures: small models trained by Debian's
sentencepiece on a seeded generated corpus, and what the library answers for
held-out sentences and awkward strings, in test/fixtures/sentencepiece/:

  <name>.model      one ModelProto per setting in MODELS (unigram, BPE, with and
                    without byte fallback, nmt_nfkc / identity normalization,
                    user-defined symbols, whitespace options, char and word)
  expected.json     inputs, and per model: every id's piece, encode ids and
                    pieces, decode of those ids, and decode of chosen id lists

Nothing is downloaded; the corpus is generated here. Tests read only the
committed files.

    /usr/bin/python3 tools/fixtures_sentencepiece.py
"""
import json
import os
import random
import shutil
import tempfile

import sentencepiece as spm

OUT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sentencepiece"))
FORMAT_VERSION = 1

EN_SUBJECTS = "the cat|a dog|my teacher|the old man|this child|our neighbour|the doctor|a student|the bird".split("|")
EN_VERBS = "eats|sees|likes|reads|buys|writes|finds|wants|makes|opens|carries|loves".split("|")
EN_OBJECTS = "an apple|the book|a letter|some water|the red car|three fish|a small house|the door|a song".split("|")
EN_TAILS = "|in the park|at school|every morning|yesterday|with a friend|near the river|on Sunday|quickly".split("|")
JA_WORDS = ("watashi anata kare kanojo neko inu sensei gakusei hon tegami mizu kuruma ie tomodachi kawa "
            "taberu miru yomu kau kaku mitsukeru hoshii tsukuru akeru suki ookii chiisai akai atarashii").split()
JA_PARTICLES = "wa ga o ni de no to mo ka".split()
ACCENTED = ("café naïve résumé über straße crème brûlée façade jalapeño smörgåsbord São Paulo "
            "Ångström coöperate Dvořák Łódź Ærø piñata señor déjà vu garçon").split()
OTHER = ["東京 に 行く", "ありがとう ございます", "Привет мир", "γειά σου κόσμε", "שלום עולם", "مرحبا بالعالم",
         "데이터 과학", "numbers 12 345 6789", "e-mail: test@example.com", "price $4.99 (20% off)!"]


SYLLABLES = [c + v for c in ["", "k", "s", "t", "n", "h", "m", "y", "r", "w", "g", "z", "d", "b", "p", "sh", "ch", "ts"]
             for v in "aiueo"] + ["n"]


def pseudo_word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))


def corpus(rng, lines):
    out = []
    for _ in range(lines):
        r = rng.random()
        if r < 0.45:
            s = " ".join(x for x in (rng.choice(EN_SUBJECTS), rng.choice(EN_VERBS), rng.choice(EN_OBJECTS),
                                     rng.choice(EN_TAILS), str(rng.randint(0, 999)) if rng.random() < 0.2 else "",
                                     pseudo_word(rng).capitalize() if rng.random() < 0.3 else "") if x)
            s = s[0].upper() + s[1:] + rng.choice(".!?")
        elif r < 0.85:
            words = [rng.choice(JA_WORDS + [pseudo_word(rng)]) + " " + rng.choice(JA_PARTICLES)
                     for _ in range(rng.randint(2, 5))]
            s = " ".join(words) + " " + rng.choice(JA_WORDS) + rng.choice(["", " ka", " desu", " masu"]) + "."
        elif r < 0.95:
            s = " ".join(rng.choice(ACCENTED) for _ in range(rng.randint(2, 6)))
        else:
            s = rng.choice(OTHER)
        out.append(s)
    return out


# name -> spm_train options (besides input, model_prefix, and the common ones below)
MODELS = {
    "unigram_nfkc": dict(model_type="unigram", vocab_size=600, user_defined_symbols="<sep>,§§,▁▁"),
    "unigram_bytes": dict(model_type="unigram", vocab_size=700, byte_fallback=True),
    "bpe_nfkc": dict(model_type="bpe", vocab_size=600, user_defined_symbols="<sep>,§§"),
    "bpe_bytes": dict(model_type="bpe", vocab_size=700, byte_fallback=True, pad_id=3),
    "unigram_identity": dict(model_type="unigram", vocab_size=500, normalization_rule_name="identity",
                             control_symbols="<2ja>,<2en>"),
    "bpe_raw_whitespace": dict(model_type="bpe", vocab_size=500, normalization_rule_name="identity",
                               add_dummy_prefix=False, remove_extra_whitespaces=False, split_digits=True),
    "unigram_suffix": dict(model_type="unigram", vocab_size=500, normalization_rule_name="identity",
                           treat_whitespace_as_suffix=True, unk_surface="<?>", bos_id=-1, eos_id=1, unk_id=2,
                           pad_id=0),
    # A denormalization rule (a → A, "ca" → "K  ", t deleted) shows the decoder applies it.
    "unigram_denormalized": dict(model_type="unigram", vocab_size=300, normalization_rule_name="identity",
                                 denormalization_rule_tsv="denormalization.tsv"),
    "char_identity": dict(model_type="char", normalization_rule_name="identity", byte_fallback=True,
                          vocab_size=400, use_all_vocab=True, hard_vocab_limit=False),
    "word_identity": dict(model_type="word", normalization_rule_name="identity", vocab_size=300,
                          hard_vocab_limit=False),
}
COMMON = dict(character_coverage=0.9995, num_threads=1, seed_sentencepiece_size=100000, minloglevel=2,
              shuffle_input_sentence=False)

AWKWARD = [
    "", " ", "   ", "\t", "\n", "\r\n", "a", "A.", "Hello world", "  leading spaces", "trailing spaces   ",
    "runs    of     spaces", " " * 300 + "x" + " " * 300, "tabs\tand\nnewlines\r\nmixed", "\t\tindent",
    "empty\n\nlines\n\n", "café", "cafe\u0301", "Ångström vs A\u030angstro\u0308m", "naïve na\u0131\u0308ve",
    "résumé über straße", "Dvořák Łódź", "emoji 😀 👍🏽 🇯🇵", "family 👨\u200d👩\u200d👧\u200d👦 zwj",
    "❤️ heart with VS16", "unknown: ☃ ⚙ ∮ ⊕ 𝄞", "𝕳𝖊𝖑𝖑𝖔 mathematical", "ｆｕｌｌｗｉｄｔｈ　ＡＳＣＩＩ　１２３",
    "ﾊﾝｶｸ ｶﾀｶﾅ ｶﾞｷﾞ", "ligatures ﬁ ﬂ ﬀ ﬃ", "Roman Ⅻ Ⅳ ⅻ", "superscript x² H₂O ½ ⅞",
    "control\x01chars\x07here\x1f", "NUL\x00inside", "zero\u200bwidth\u200cjoiners\u200d", "soft\u00adhyphen",
    "bidi \u202eoverride\u202c text", "שלום עולם hello", "مرحبا بالعالم", "東京に行きます。", "ありがとう",
    "데이터", "Привет, мир!", "Ελληνικά", "combining a\u0300\u0301\u0302\u0303\u0304 marks",
    "non\u00a0breaking\u2009thin\u3000ideographic spaces", "watashi wa neko ga suki desu.",
    "<sep> user <sep>defined<sep>", "§§ and §§§ and §", "<s> </s> <unk> <pad> <2ja> literal",
    "<0x41> byte piece literal", "▁ already ▁▁ escaped", "The cat eats an apple in the park.",
    "12345678901234567890", "x" * 200, "ababababababababababab", "\ufeffBOM at start", "replacement \ufffd char",
    "private use \ue000\uf8ff", "noncharacter \ufffe\uffff", "𐍈 gothic hwair", "a" + "\u0301" * 40,
]
# JS strings that are not valid Unicode: the TypeScript side encodes them as
# TextEncoder does (each lone surrogate -> U+FFFD); the oracle gets that text.
UNITS = [[0x61, 0xD800, 0x62], [0xDC00], [0x20, 0xDBFF, 0xDBFF, 0xDFFF, 0x20], [0xD83D]]
# Byte strings that are not UTF-8: the library replaces each bad byte with U+FFFD.
BYTES = [b"abc\xff\xfeq", b"\xc3", b"\xe3\x81", b"ok\xe3\x81\x82\xe3\x81ok", b"\xc0\x80 overlong",
         b"\xed\xa0\x80 cesu surrogate", b"\xf4\x90\x80\x80 too big", b"\x80\x80\x80", b"caf\xc3\xa9 \xa9"]


# Seeded random strings over the characters most likely to break a tokenizer.
FUZZ_ALPHABET = [" ", " ", "  ", "\t", "\n", "a", "e", "ka", "the", "T", ".", "▁", "é", "e\u0301", "ß", "ﬁ", "Ⅻ", "ｈ",
                 "ｶﾞ", "東", "あ", "😀", "👨\u200d👩", "\x00", "\x07", "\u200b", "\u202e", "\ufffd", "ا", "ש", "<sep>",
                 "§", "§§", "<s>", "<0x41>", "\u0301", "\u3000", "\u00a0", "①", "㍿", "1", "23"]


def fuzz_strings(rng, count):
    return ["".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(1, 10))) for _ in range(count)]


def units_to_text(units):
    out, i = [], 0
    while i < len(units):
        u = units[i]
        if 0xD800 <= u < 0xDC00 and i + 1 < len(units) and 0xDC00 <= units[i + 1] < 0xE000:
            out.append(chr(0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00)))
            i += 2
            continue
        out.append("\ufffd" if 0xD800 <= u < 0xE000 else chr(u))
        i += 1
    return "".join(out)


DENORMALIZATION_TSV = "61\t41\n63 61\t4B 20 20\n74\t\n"


def train(name, opts):
    """Trains in the working directory: the model records its input and prefix, relative, so it regenerates identically."""
    args = dict(COMMON, **opts)
    spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix=name, **args)
    shutil.copyfile(name + ".model", os.path.join(OUT, name + ".model"))
    shown = " ".join(f"--{k}={v}" for k, v in sorted(args.items()))
    return f"spm_train --input=corpus.txt --model_prefix={name} {shown}"


def expectations(sp, inputs):
    n = sp.get_piece_size()
    byte_ids = [i for i in range(n) if sp.is_byte(i)]
    normal = [i for i in range(n) if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i))]
    rng = random.Random(7)
    decode_lists = [
        [], [sp.unk_id()], list(range(n)), normal[:40], [normal[0]] * 5,
        [i for i in (sp.bos_id(), normal[3], normal[5], sp.eos_id()) if i >= 0],
        [sp.piece_to_id("▁")] * 3 + normal[10:14] if sp.piece_to_id("▁") != sp.unk_id() else normal[10:14],
        [rng.randrange(n) for _ in range(60)],
    ]
    if byte_ids:
        b = lambda bs: [sp.piece_to_id(f"<0x{x:02X}>") for x in bs]  # noqa: E731
        decode_lists += [b(b"\xe3\x81\x82"), b(b"\xe3\x81"), b(b"\xff\x41"), normal[:2] + b(b"\xf0\x9f\x98") +
                         normal[2:3] + b(b"\x80"), b("é".encode()) + normal[4:6]]
    encode = []
    for inp in inputs:
        if "bytes" in inp:
            data = bytes.fromhex(inp["bytes"])
            pieces = [p.decode("utf-8") for p in sp.encode(data, out_type=str)]
            ids = sp.encode(data)
        else:
            text = units_to_text(inp["units"]) if "units" in inp else inp["text"]
            pieces, ids = sp.encode(text, out_type=str), sp.encode(text)
        encode.append([ids, pieces, sp.decode(ids)])
    return {
        "vocab_size": n,
        "ids": {"unk": sp.unk_id(), "bos": sp.bos_id(), "eos": sp.eos_id(), "pad": sp.pad_id()},
        "pieces": [sp.id_to_piece(i) for i in range(n)],
        "encode": encode,
        "decode": [[ids, sp.decode(ids)] for ids in decode_lists],
        "piece_to_id": [[p, sp.piece_to_id(p)] for p in ("<unk>", "<s>", "</s>", "<pad>", "▁the", "zzzz", "<0x41>")],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20240501)
    train_lines = corpus(rng, 6000)
    held_out = corpus(random.Random(99), 40)
    inputs = ([{"text": s} for s in held_out + AWKWARD + fuzz_strings(random.Random(5), 120)] + [{"units": u} for u in UNITS] +
              [{"bytes": b.hex()} for b in BYTES])
    result = {"format_version": FORMAT_VERSION, "provenance": {
        "library": f"sentencepiece {spm.__version__} (Debian python3-sentencepiece)",
        "script": "tools/fixtures_sentencepiece.py",
        "corpus": "6000 lines generated by corpus() with random.Random(20240501); held-out: random.Random(99); "
                  "fuzz: fuzz_strings(random.Random(5), 120)",
        "notes": "units: UTF-16 code units, lone surrogates given to the library as U+FFFD; "
                 "bytes: hex of UTF-8 input given to the library as bytes",
        "commands": {}}, "inputs": inputs, "models": {}}
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)
        with open("corpus.txt", "w", encoding="utf-8") as f:
            f.write("\n".join(train_lines) + "\n")
        with open("denormalization.tsv", "w") as f:
            f.write(DENORMALIZATION_TSV)
        for name, opts in MODELS.items():
            result["provenance"]["commands"][name] = train(name, opts)
            sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, name + ".model"))
            result["models"][name] = dict(file=name + ".model", **expectations(sp, inputs))
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
