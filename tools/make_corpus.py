#!/usr/bin/env python3
"""A deterministic English → Japanese (romaji) parallel corpus for the
translation model that ships in models/.

The Japanese side is generated from the same meaning as the English side by a
small grammar, so every English sentence has exactly one reference:
  - word order changes from SVO to SOV, with the verb last;
  - particles mark roles: wa (topic), ga (wh-subject, existence, likes),
    o (object), ni (destination, recipient, place of existence), de (place of
    action, means), to (companion), no (possession, counters);
  - adjectives precede nouns as in English, and conjugate as predicates
    (akai desu / akakatta desu / akaku nai desu / akaku nakatta desu);
  - verbs take the polite forms -masu / -mashita / -masen / -masen deshita;
  - questions end in "ka?", wh-words stay in place (nani o, doko ni, dare ga);
  - numbers are read out in Sino-Japanese (ni juu san) with a counter chosen by
    the noun (nin, hiki, satsu, ko), hitori / futari for one and two people.
It is a simplified Japanese: no sound changes in counters (san hiki, not
san biki), no honorific verbs, no kanji.

    python3 tools/make_corpus.py --out corpus --train 60000 --test 1000 --seed 1

writes OUT/train.en, OUT/train.ja, OUT/test.en, OUT/test.ja (test pairs never
occur in train).
"""
import argparse
import os
import random

# noun: (singular, plural, romaji, kind). kind picks the counter and the verbs that take it.
NOUNS = [
    ("teacher", "teachers", "sensei", "person"), ("student", "students", "gakusei", "person"),
    ("doctor", "doctors", "isha", "person"), ("friend", "friends", "tomodachi", "person"),
    ("child", "children", "kodomo", "person"), ("mother", "mothers", "okaasan", "person"),
    ("father", "fathers", "otousan", "person"), ("sister", "sisters", "imouto", "person"),
    ("brother", "brothers", "otouto", "person"), ("neighbor", "neighbors", "kinjo no hito", "person"),
    ("cat", "cats", "neko", "animal"), ("dog", "dogs", "inu", "animal"), ("bird", "birds", "tori", "animal"),
    ("fish", "fish", "sakana", "animal"), ("horse", "horses", "uma", "animal"),
    ("rabbit", "rabbits", "usagi", "animal"),
    ("apple", "apples", "ringo", "food"), ("orange", "oranges", "orenji", "food"),
    ("banana", "bananas", "banana", "food"), ("cake", "cakes", "keeki", "food"), ("egg", "eggs", "tamago", "food"),
    ("sandwich", "sandwiches", "sandoicchi", "food"),
    ("book", "books", "hon", "text"), ("letter", "letters", "tegami", "text"),
    ("newspaper", "newspapers", "shinbun", "text"), ("magazine", "magazines", "zasshi", "text"),
    ("car", "cars", "kuruma", "thing"), ("bicycle", "bicycles", "jitensha", "thing"),
    ("umbrella", "umbrellas", "kasa", "thing"), ("bag", "bags", "kaban", "thing"), ("pen", "pens", "pen", "thing"),
    ("key", "keys", "kagi", "thing"), ("watch", "watches", "tokei", "thing"), ("chair", "chairs", "isu", "thing"),
    ("table", "tables", "teeburu", "thing"), ("computer", "computers", "konpyuutaa", "thing"),
    ("phone", "phones", "denwa", "thing"), ("picture", "pictures", "e", "thing"),
    ("flower", "flowers", "hana", "thing"), ("box", "boxes", "hako", "thing"), ("shirt", "shirts", "shatsu", "thing"),
]
DRINKS = [("water", "mizu"), ("tea", "ocha"), ("coffee", "koohii"), ("milk", "gyuunyuu"), ("juice", "juusu")]
MEALS = [("sushi", "sushi"), ("rice", "gohan"), ("bread", "pan"), ("soup", "suupu"), ("meat", "niku")]
SHOWS = [("movie", "movies", "eiga"), ("song", "songs", "uta")]
PLACES = [
    ("school", "gakkou"), ("park", "kouen"), ("station", "eki"), ("library", "toshokan"), ("hospital", "byouin"),
    ("store", "mise"), ("house", "ie"), ("office", "kaisha"), ("restaurant", "resutoran"), ("city", "machi"),
    ("river", "kawa"), ("mountain", "yama"), ("beach", "umi"), ("kitchen", "daidokoro"), ("room", "heya"),
    ("garden", "niwa"), ("museum", "bijutsukan"), ("airport", "kuukou"),
]
NAMES = [("Tanaka", "tanaka san"), ("Suzuki", "suzuki san"), ("Sato", "satou san"), ("Yamada", "yamada san"),
         ("Kenji", "kenji kun"), ("Yuki", "yuki chan"), ("Emma", "ema san"), ("Tom", "tomu san")]
# pronoun: (subject, object, possessive, romaji, third person singular)
PRONOUNS = [("I", "me", "my", "watashi", False), ("you", "you", "your", "anata", False),
            ("he", "him", "his", "kare", True), ("she", "her", "her", "kanojo", True),
            ("we", "us", "our", "watashitachi", False), ("they", "them", "their", "karera", False)]
# adjective: (english, romaji i-adjective)
ADJECTIVES = [("big", "ookii"), ("small", "chiisai"), ("new", "atarashii"), ("old", "furui"), ("red", "akai"),
              ("blue", "aoi"), ("white", "shiroi"), ("black", "kuroi"), ("good", "ii"), ("expensive", "takai"),
              ("cheap", "yasui"), ("long", "nagai"), ("short", "mijikai"), ("heavy", "omoi"), ("light", "karui"),
              ("interesting", "omoshiroi"), ("delicious", "oishii"), ("fast", "hayai"), ("cold", "tsumetai")]
ADJ_FOR = {"food": None, "thing": None, "text": ["new", "old", "long", "short", "interesting", "good", "expensive", "cheap"],
           "animal": ["big", "small", "old", "white", "black", "fast", "good"],
           "person": ["good", "old", "fast", "interesting"]}
# verb: (base, third singular, past, romaji masu-stem, what it takes)
TRANSITIVE = [
    ("eat", "eats", "ate", "tabe", "food meal"), ("drink", "drinks", "drank", "nomi", "drink"),
    ("read", "reads", "read", "yomi", "text"), ("write", "writes", "wrote", "kaki", "text"),
    ("buy", "buys", "bought", "kai", "food thing text drink meal"), ("make", "makes", "made", "tsukuri", "food meal"),
    ("watch", "watches", "watched", "mi", "show animal"), ("wash", "washes", "washed", "arai", "thing food"),
    ("find", "finds", "found", "mitsuke", "thing text animal"), ("sing", "sings", "sang", "utai", "song"),
    ("use", "uses", "used", "tsukai", "thing"), ("open", "opens", "opened", "ake", "box bag"),
    ("carry", "carries", "carried", "hakobi", "thing text"), ("sell", "sells", "sold", "uri", "thing text food"),
    ("draw", "draws", "drew", "egaki", "animal thing"), ("call", "calls", "called", "yobi", "person animal"),
    ("help", "helps", "helped", "tetsudai", "person"), ("meet", "meets", "met", "ai", "person"),
]
MOTION = [("go", "goes", "went", "iki"), ("come", "comes", "came", "ki"), ("return", "returns", "returned", "kaeri"),
          ("walk", "walks", "walked", "aruite iki")]
ACTIVITY = [("study", "studies", "studied", "benkyou shi"), ("work", "works", "worked", "hataraki"),
            ("sleep", "sleeps", "slept", "ne"), ("run", "runs", "ran", "hashiri"), ("swim", "swims", "swam", "oyogi"),
            ("wait", "waits", "waited", "machi"), ("play", "plays", "played", "asobi"),
            ("eat lunch", "eats lunch", "ate lunch", "hirugohan o tabe")]
DITRANSITIVE = [("give", "gives", "gave", "age"), ("send", "sends", "sent", "okuri"), ("show", "shows", "showed", "mise"),
                ("lend", "lends", "lent", "kashi")]
VEHICLES = [("car", "kuruma"), ("bus", "basu"), ("train", "densha"), ("bicycle", "jitensha"), ("taxi", "takushii")]
TIMES = {"past": [("yesterday", "kinou"), ("last week", "senshuu"), ("this morning", "kesa")],
         "present": [("every day", "mainichi"), ("today", "kyou"), ("on Sundays", "nichiyoubi ni")],
         "future": [("tomorrow", "ashita"), ("next week", "raishuu"), ("tonight", "konban")]}
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
DIGITS_JA = ["", "ichi", "ni", "san", "yon", "go", "roku", "nana", "hachi", "kyuu"]
COUNTERS = {"person": "nin", "animal": "hiki", "text": "satsu", "food": "ko", "thing": "ko"}


def number_ja(n):
    """1–99 read out: 23 → ni juu san, 10 → juu, 14 → juu yon."""
    tens, ones = divmod(n, 10)
    words = []
    if tens:
        words += ([DIGITS_JA[tens]] if tens > 1 else []) + ["juu"]
    if ones:
        words.append(DIGITS_JA[ones])
    return " ".join(words)


def count_ja(n, kind):
    if kind == "person" and n <= 2:
        return ["hitori", "futari"][n - 1]
    return f"{number_ja(n)} {COUNTERS[kind]}"


def i_adjective(romaji, form):
    """Predicate forms of an i-adjective; ii conjugates from its old stem yo-."""
    stem = "yo" if romaji == "ii" else romaji[:-1]
    return {"present": romaji, "past": stem + "katta", "neg": stem + "ku nai", "pastneg": stem + "ku nakatta"}[form]


def polite(stem, tense, negative):
    if tense == "past":
        return stem + ("masen deshita" if negative else "mashita")
    return stem + ("masen" if negative else "masu")


def a_or_an(word):
    return "an" if word[0] in "aeiou" else "a"


class Generator:
    def __init__(self, rng):
        self.r = rng

    def pick(self, xs):
        return self.r.choice(xs)

    def chance(self, p):
        return self.r.random() < p

    # ---- noun phrases: (english, romaji, third person singular, kind) ----
    def subject(self):
        roll = self.r.random()
        if roll < 0.4:
            en, _, _, ja, sg = self.pick(PRONOUNS)
            return en, ja, sg, "person"
        if roll < 0.55:
            en, ja = self.pick(NAMES)
            return en, ja, True, "person"
        return self.noun_phrase(kinds=("person", "animal"), article="the", allow_count=False)

    def owner(self):
        """A possessive: (english 'my' / "the teacher's", romaji 'watashi no')."""
        if self.chance(0.6):
            _, _, en, ja, _ = self.pick(PRONOUNS)
            return en, f"{ja} no"
        if self.chance(0.5):
            en, ja = self.pick(NAMES)
            return f"{en}'s", f"{ja} no"
        sing, _, ja, _ = self.pick([n for n in NOUNS if n[3] == "person"])
        return f"the {sing}'s", f"{ja} no"

    def adjective_for(self, kind):
        allowed = ADJ_FOR[kind]
        return self.pick([a for a in ADJECTIVES if allowed is None or a[0] in allowed])

    def noun_phrase(self, kinds, article="a", allow_count=True, allow_owner=True):
        sing, plur, ja, kind = self.pick([n for n in NOUNS if n[3] in kinds])
        adjs = []
        if self.chance(0.35):
            adjs.append(self.adjective_for(kind))
            if self.chance(0.2):
                second = self.adjective_for(kind)
                if second != adjs[0]:
                    adjs.append(second)
        adj_en = " ".join(a[0] for a in adjs)
        adj_ja = " ".join(a[1] for a in adjs)
        if allow_count and self.chance(0.25):
            n = self.r.randint(2, 30)
            num = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) and self.chance(0.5) else str(n)
            en = " ".join(x for x in (num, adj_en, plur) if x)
            ja_np = " ".join(x for x in (count_ja(n, kind) + " no", adj_ja, ja) if x)
            return en, ja_np, False, kind
        head = " ".join(x for x in (adj_en, sing) if x)
        roll = self.r.random()
        if allow_owner and roll < 0.3:
            pos_en, pos_ja = self.owner()
            return f"{pos_en} {head}", f"{pos_ja} {adj_ja + ' ' if adj_ja else ''}{ja}", True, kind
        if article == "a" and (roll < 0.65 or not allow_owner):
            return f"{a_or_an(head)} {head}", " ".join(x for x in (adj_ja, ja) if x), True, kind
        return f"the {head}", " ".join(x for x in (adj_ja, ja) if x), True, kind

    def object_for(self, takes):
        options = takes.split()
        what = self.pick(options)
        if what == "drink":
            en, ja = self.pick(DRINKS)
            return (f"some {en}" if self.chance(0.3) else en), ja
        if what == "meal":
            en, ja = self.pick(MEALS)
            return en, ja
        if what in ("show", "song"):
            sing, plur, ja = self.pick(SHOWS if what == "show" else SHOWS[1:])
            return f"{self.pick(['a', 'the'])} {sing}", ja
        if what in ("box", "bag"):
            sing, _, ja, _ = next(n for n in NOUNS if n[0] == what)
            if self.chance(0.5):
                pos_en, pos_ja = self.owner()
                return f"{pos_en} {sing}", f"{pos_ja} {ja}"
            return f"the {sing}", ja
        en, ja, _, _ = self.noun_phrase(kinds=(what,))
        return en, ja

    def place(self):
        en, ja = self.pick(PLACES)
        if self.chance(0.25):
            pos_en, pos_ja = self.owner()
            return f"{pos_en} {en}", f"{pos_ja} {ja}"
        return f"the {en}", ja

    # ---- clauses ----
    def tense_and_time(self):
        tense = self.pick(["present", "past", "future"])
        time = self.pick(TIMES[tense]) if self.chance(0.4 if tense != "future" else 0.7) else None
        return tense, time

    def verb_en(self, verb, tense, negative, question, third_sg):
        """English verb group in its clause position; returns (aux before subject or None, verb after subject)."""
        base, s3, past = verb[0], verb[1], verb[2]
        if tense == "future":
            if question:
                return "Will", base if not negative else f"not {base}"
            return None, f"will not {base}" if negative else f"will {base}"
        do = ("does" if third_sg else "do") if tense == "present" else "did"
        if question:
            return do.capitalize(), f"not {base}" if negative else base
        if negative:
            return None, f"{do} not {base}"
        return None, (s3 if third_sg else base) if tense == "present" else past

    def clause(self, subj_en, subj_ja, third_sg, tense, time, negative, question, middle_en, middle_ja, verb):
        """Assembles both sides: English S V … (time); Japanese S wa (time) … V."""
        aux, vg = self.verb_en(verb, tense, negative, question, third_sg)
        tail_en = " ".join(x for x in (middle_en, time[0] if time else "") if x)
        if aux:
            en = f"{aux} {subj_en} {vg}"
        else:
            en = f"{subj_en} {vg}"
        en = f"{en} {tail_en}".strip()
        ja_parts = [f"{subj_ja} wa"] + ([time[1]] if time else []) + ([middle_ja] if middle_ja else [])
        ja_parts.append(polite(verb[3], "past" if tense == "past" else "present", negative))
        ja = " ".join(ja_parts)
        return finish(en, ja, question)

    def transitive(self):
        verb = self.pick(TRANSITIVE)
        s_en, s_ja, sg, _ = self.subject()
        o_en, o_ja = self.object_for(verb[4])
        tense, time = self.tense_and_time()
        particle = "ni" if verb[0] == "meet" else "o"  # one meets *to* someone: ni au
        middle_en, middle_ja = o_en, f"{o_ja} {particle}"
        if self.chance(0.3):
            p_en, p_ja = self.place()
            middle_en, middle_ja = f"{o_en} at {p_en}", f"{p_ja} de {o_ja} {particle}"
        return self.clause(s_en, s_ja, sg, tense, time, self.chance(0.3), self.chance(0.25), middle_en, middle_ja, verb)

    def motion(self):
        verb = self.pick(MOTION)
        s_en, s_ja, sg, _ = self.subject()
        p_en, p_ja = self.place()
        tense, time = self.tense_and_time()
        en_bits, ja_bits = [f"to {p_en}"], []
        if self.chance(0.3):
            c_en, c_ja, _, _ = self.companion()
            en_bits.append(f"with {c_en}")
            ja_bits.append(f"{c_ja} to")
        if verb[0] != "walk" and self.chance(0.3):
            v_en, v_ja = self.pick(VEHICLES)
            en_bits.append(f"by {v_en}")
            ja_bits.append(f"{v_ja} de")
        ja_bits.append(f"{p_ja} ni")
        return self.clause(s_en, s_ja, sg, tense, time, self.chance(0.3), self.chance(0.25),
                           " ".join(en_bits), " ".join(ja_bits), verb)

    def companion(self):
        if self.chance(0.5):
            _, obj, _, ja, _ = self.pick([p for p in PRONOUNS if p[0] != "I"])
            return obj, ja, False, "person"
        return self.noun_phrase(kinds=("person",), article="the", allow_count=False)

    def activity(self):
        verb = self.pick(ACTIVITY)
        s_en, s_ja, sg, _ = self.subject()
        tense, time = self.tense_and_time()
        p_en, p_ja = self.place()
        return self.clause(s_en, s_ja, sg, tense, time, self.chance(0.3), self.chance(0.25),
                           f"at {p_en}", f"{p_ja} de", verb)

    def ditransitive(self):
        verb = self.pick(DITRANSITIVE)
        s_en, s_ja, sg, _ = self.subject()
        o_en, o_ja = self.object_for("thing text")
        r_en, r_ja, _, _ = self.companion()
        tense, time = self.tense_and_time()
        return self.clause(s_en, s_ja, sg, tense, time, self.chance(0.3), self.chance(0.25),
                           f"{o_en} to {r_en}", f"{r_ja} ni {o_ja} o", verb)

    def likes(self):
        s_en, s_ja, sg, _ = self.subject()
        if self.chance(0.5):
            sing, plur, ja, kind = self.pick([n for n in NOUNS if n[3] in ("animal", "food", "thing", "text")])
            o_en, o_ja = plur, ja
        else:
            o_en, o_ja = self.pick(DRINKS + MEALS)
        tense = self.pick(["present", "past"])
        negative, question = self.chance(0.3), self.chance(0.25)
        if tense == "present":
            do = "does" if sg else "do"
        else:
            do = "did"
        if question:
            en = f"{do.capitalize()} {s_en} {'not ' if negative else ''}like {o_en}"
        elif negative:
            en = f"{s_en} {do} not like {o_en}"
        else:
            en = f"{s_en} {('likes' if sg else 'like') if tense == 'present' else 'liked'} {o_en}"
        copula = {("present", False): "desu", ("past", False): "deshita", ("present", True): "ja arimasen",
                  ("past", True): "ja arimasen deshita"}[(tense, negative)]
        return finish(en, f"{s_ja} wa {o_ja} ga suki {copula}", question)

    def be(self, subj_en, third_sg, tense, negative, question, rest):
        is_i = subj_en == "I"
        form = ("am" if is_i else "is" if third_sg else "are") if tense == "present" else ("was" if is_i or third_sg else "were")
        if question:
            return f"{form.capitalize()} {subj_en}{' not' if negative else ''} {rest}"
        return f"{subj_en} {form}{' not' if negative else ''} {rest}"

    def adjective_predicate(self):
        if self.chance(0.5):
            s_en, s_ja, sg, _ = self.noun_phrase(kinds=("thing", "text", "food"), article="the", allow_count=False)
            kind = "thing"
        else:
            s_en, s_ja, sg, _ = self.noun_phrase(kinds=("animal",), article="the", allow_count=False)
            kind = "animal"
        adj_en, adj_ja = self.adjective_for(kind)
        tense = self.pick(["present", "past"])
        negative, question = self.chance(0.3), self.chance(0.25)
        en = self.be(s_en, sg, tense, negative, question, adj_en)
        form = {("present", False): "present", ("past", False): "past", ("present", True): "neg",
                ("past", True): "pastneg"}[(tense, negative)]
        return finish(en, f"{s_ja} wa {i_adjective(adj_ja, form)} desu", question)

    def noun_predicate(self):
        en_s, _, _, ja_s, sg = self.pick(PRONOUNS[:4])
        if self.chance(0.4):
            en_s, ja_s = self.pick(NAMES)
            sg = True
        sing, _, ja, _ = self.pick([n for n in NOUNS if n[3] == "person" and n[0] not in ("mother", "father", "sister", "brother")])
        tense = self.pick(["present", "past"])
        negative, question = self.chance(0.3), self.chance(0.25)
        rest = f"{a_or_an(sing)} {sing}"
        if self.chance(0.3):
            pos_en, pos_ja = self.owner()
            rest, ja = f"{pos_en} {sing}", f"{pos_ja} {ja}"
        en = self.be(en_s, sg, tense, negative, question, rest)
        copula = {("present", False): "desu", ("past", False): "deshita", ("present", True): "ja arimasen",
                  ("past", True): "ja arimasen deshita"}[(tense, negative)]
        return finish(en, f"{ja_s} wa {ja} {copula}", question)

    def existence(self):
        n_en, n_ja, sg, kind = self.noun_phrase(kinds=("animal", "thing", "text", "person"), article="a", allow_owner=False)
        p_en, p_ja = self.place()
        tense = self.pick(["present", "past"])
        negative, question = self.chance(0.3), self.chance(0.25)
        form = ("is" if sg else "are") if tense == "present" else ("was" if sg else "were")
        if question:
            en = f"{form.capitalize()} there{' not' if negative else ''} {n_en} in {p_en}"
        else:
            en = f"There {form}{' not' if negative else ''} {n_en} in {p_en}"
        verb = "i" if kind in ("person", "animal") else "ari"  # iru for the living, aru for things
        return finish(en, f"{p_ja} ni {n_ja} ga {polite(verb, tense, negative)}", question)

    def wh_question(self):
        roll = self.r.random()
        tense, time = self.tense_and_time()
        if roll < 0.35:  # what do you eat?
            verb = self.pick([v for v in TRANSITIVE if v[0] not in ("call", "help", "meet")])
            s_en, s_ja, sg, _ = self.subject()
            aux, vg = self.verb_en(verb, tense, False, True, sg)
            en = f"What {aux.lower()} {s_en} {vg}" + (f" {time[0]}" if time else "")
            ja = " ".join([f"{s_ja} wa"] + ([time[1]] if time else []) + ["nani o", polite(verb[3], "past" if tense == "past" else "present", False)])
            return finish(en, ja, True)
        if roll < 0.7:  # where do you go?
            verb = self.pick(MOTION)
            s_en, s_ja, sg, _ = self.subject()
            aux, vg = self.verb_en(verb, tense, False, True, sg)
            en = f"Where {aux.lower()} {s_en} {vg}" + (f" {time[0]}" if time else "")
            ja = " ".join([f"{s_ja} wa"] + ([time[1]] if time else []) + ["doko ni", polite(verb[3], "past" if tense == "past" else "present", False)])
            return finish(en, ja, True)
        verb = self.pick(TRANSITIVE)  # who reads the book?
        o_en, o_ja = self.object_for(verb[4])
        vg = {"present": verb[1], "past": verb[2], "future": f"will {verb[0]}"}[tense]
        en = f"Who {vg} {o_en}" + (f" {time[0]}" if time else "")
        particle = "ni" if verb[0] == "meet" else "o"
        ja = " ".join(["dare ga"] + ([time[1]] if time else []) + [f"{o_ja} {particle}", polite(verb[3], "past" if tense == "past" else "present", False)])
        return finish(en, ja, True)

    def sentence(self):
        kinds = [(self.transitive, 30), (self.motion, 14), (self.activity, 10), (self.ditransitive, 8), (self.likes, 8),
                 (self.adjective_predicate, 10), (self.noun_predicate, 6), (self.existence, 8), (self.wh_question, 8)]
        make = self.r.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        return make()


def finish(en, ja, question):
    en = en[0].upper() + en[1:]
    return en + ("?" if question else "."), ja + (" ka?" if question else ".")


def generate(seed, count, exclude=()):
    """count distinct pairs (by English side), none of whose English sides is in exclude."""
    gen = Generator(random.Random(seed))
    seen, pairs = set(exclude), []
    while len(pairs) < count:
        en, ja = gen.sentence()
        if en in seen:
            continue
        seen.add(en)
        pairs.append((en, ja))
    return pairs


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="corpus")
    parser.add_argument("--train", type=int, default=60000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    test = generate(args.seed + 1000, args.test)
    train = generate(args.seed, args.train, exclude={en for en, _ in test})
    os.makedirs(args.out, exist_ok=True)
    for name, pairs in (("train", train), ("test", test)):
        write(os.path.join(args.out, f"{name}.en"), [en for en, _ in pairs])
        write(os.path.join(args.out, f"{name}.ja"), [ja for _, ja in pairs])
    print(f"wrote {len(train)} training and {len(test)} test pairs to {args.out}")


if __name__ == "__main__":
    main()
