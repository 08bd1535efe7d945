#!/usr/bin/env python3
"""The English → Spanish parallel corpus for hibiki's default translator
(issue 23), built only from what Debian's packages carry.

Two kinds of pairs:
  - human: the Spanish gettext catalogs (.mo) of the installed packages
    (/usr/share/locale/es/LC_MESSAGES) and of a few packages fetched with
    `apt-get download` into a cache (LibreOffice's 33 catalogs among them).
    Translators wrote these, but they are UI strings: labels, menu items,
    error messages, option help.
  - apertium: general English (fortunes, WordNet's example sentences, Debian
    package descriptions) translated by Apertium's rule-based eng-spa, a
    teacher to distil from. Every such pair is tagged as machine output.

Evaluation holds out whole catalogs, never random pairs, because a catalog's
strings share vocabulary and phrasing (HELD_OUT, DEV below). No training pair
has a source that occurs in the held-out set, the dev set, or the hand-written
general set in test/fixtures/en-es; no dev pair has a held-out source. The
Apertium data holds out nothing.

    apt-get install apertium-eng-spa wordnet-base fortunes-min
    /usr/bin/python3 tools/en_es_data.py --out data/en-es

Runs as root (apt-get download); the downloaded .debs stay in OUT/debs and are
reused. The same machine state gives the same files byte for byte, whatever
--workers; the installed catalogs and package descriptions change with what is
installed, which manifest.json records. Writes, in OUT: train.en / train.es / train.origin (human and apertium
pairs shuffled with --seed; origin is `human:<package>/<domain>` or
`apertium:<source>`), dev.en / dev.es / dev.origin, test-packages.en /
test-packages.es / test-packages.origin, and manifest.json (command, date,
every catalog with its package and version, counts before and after each
cleaning step, Apertium's version, totals).
"""
import argparse
import collections
import concurrent.futures
import datetime
import gettext
import glob
import hashlib
import json
import os
import random
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")
FORMAT_VERSION = 1

SYSTEM_CATALOGS = "/usr/share/locale/es/LC_MESSAGES"
# Packages fetched for their Spanish catalogs: ~2 s of download together (48 MB), chosen for domains the
# installed catalogs lack: office (LibreOffice, Gnumeric, GnuCash), desktop (Nautilus, Evolution, Pidgin,
# Geany), images and media (GIMP, VLC), and a large command-line one (GCC's diagnostics).
PACKAGES = ["libreoffice-l10n-es", "gcc-12-locales", "vlc-l10n", "gimp-data", "gnumeric-common", "gnucash-common",
            "evolution-common", "nautilus-data", "pidgin-data", "geany-common", "mc-data"]

# Whole catalogs held out, one per kind of text: a desktop application (Nautilus, the file manager), a
# command-line tool (tar), and a LibreOffice module (chart2, the charts of Calc and Impress): 2,084 pairs
# after cleaning and dedupe, from bookworm's nautilus-data 43.2-1, tar 1.34 and LibreOffice 7.4.7.
HELD_OUT = ["nautilus-data/nautilus", "tar/tar", "libreoffice-l10n-es/chart"]
# For checkpoint selection: other whole catalogs of the same three kinds (sed, PackageKit's messages,
# LibreOffice Math): 934 pairs.
DEV = ["sed/sed", "packagekit/PackageKit", "libreoffice-l10n-es/sm"]

FORTUNES = "/usr/share/games/fortunes"
WORDNET = "/usr/share/wordnet"
GENERAL_TEST = os.path.join(ROOT, "test", "fixtures", "en-es", "general.en")


# ---------------------------------------------------------------------------------------------------------------
# Catalogs: where they are, which package and version each comes from

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def installed_catalogs():
    """(catalog, package, version, path) for each Spanish .mo of the installed packages, once per file:
    iso-codes installs iso_639.mo etc. as symlinks to the same catalog under another name."""
    paths, seen = [], set()
    for path in sorted(glob.glob(os.path.join(SYSTEM_CATALOGS, "*.mo")), key=lambda p: (os.path.islink(p), p)):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            paths.append(path)
    owners = {}
    for line in run(["dpkg", "-S"] + paths).splitlines():
        package, path = line.split(": ", 1)
        owners[path] = package.split(":")[0]
    versions = dict(line.split("\t") for line in run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"]).splitlines())
    return [(owners[p] + "/" + os.path.basename(p)[:-3], owners[p], versions[owners[p]], p) for p in sorted(paths)]


def downloaded_catalogs(packages, cache):
    """The same for packages fetched as .debs into cache; only their es/LC_MESSAGES/*.mo are unpacked."""
    os.makedirs(cache, exist_ok=True)
    out = []
    for package in packages:
        debs = glob.glob(os.path.join(cache, package + "_*.deb"))
        if not debs:  # a cached .deb is reused as it is: delete it to take the archive's current version
            got = subprocess.run(["apt-get", "download", package], cwd=cache, capture_output=True, text=True)
            if got.returncode != 0:
                sys.exit(f"apt-get download {package} failed:\n{got.stderr}")
            debs = glob.glob(os.path.join(cache, package + "_*.deb"))
        deb = sorted(debs)[-1]
        version = run(["dpkg-deb", "-f", deb, "Version"]).strip()
        unpacked = os.path.join(cache, package)
        if not os.path.isdir(unpacked):
            os.makedirs(unpacked + ".part", exist_ok=True)
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", unpacked + ".part", "--wildcards", "*/es/LC_MESSAGES/*.mo"],
                           stdin=tar.stdout, check=True)
            tar.wait()
            os.rename(unpacked + ".part", unpacked)
        for path in sorted(glob.glob(os.path.join(unpacked, "**", "es", "LC_MESSAGES", "*.mo"), recursive=True)):
            out.append((package + "/" + os.path.basename(path)[:-3], package, version, path))
    return out


def read_catalog(path, counts):
    """(msgid, msgstr) of the singular entries, in file order, with any context prefix removed."""
    with open(path, "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog
    pairs = []
    for key, value in catalog.items():
        if isinstance(key, tuple):
            counts["plural"] += 1
        elif key == "":
            counts["header"] += 1
        else:
            pairs.append((key.split("\x04")[-1], value))
    counts["entries"] += len(pairs)
    return pairs


# ---------------------------------------------------------------------------------------------------------------
# Cleaning the human pairs

PLACEHOLDER = re.compile(
    r"%(?:\d+\$)?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|Z|t|I64|I32)?[diouxXeEfFgGaAcCsSpn%]"
    r"|%\(\w+\)[-+#0]*\d*(?:\.\d+)?[a-zA-Z]"  # Python's %(name)s
    r"|%<\w+>"                                # gettext's %<PRIu64>
    r"|%\{\w+\}|%\d+|%[A-Z][A-Z_]+\b"           # %{name}, Qt's and LibreOffice's %1, %PRODUCTNAME
    r"|\$\(\w+\)|\$\{\w+\}|\$\w+"             # $(ARG1), ${var}, $1, $HOME
    r"|\{\w*(?::[^{}]*)?\}"                  # {0}, {name}, {}, {0:d}
    r"|~[as](?!\w)")                          # GnuCash's Scheme ~a
# Not every <word> is markup: git's and gcc's usage strings write arguments as <path>. Markup is a known
# tag, a closing tag, a tag with attributes, or an entity.
MARKUP = re.compile(r"</\w+\s*>|<\w+\s+\w+\s*=|<(?:b|i|u|s|tt|big|small|span|sub|sup|a|br|p|li|ul|ol|hr|em|strong"
                    r"|markup|html|body|center|font|kbd|code|pre)\s*/?>|&(?:[a-z]+|#\d+|#x[0-9a-fA-F]+);", re.I)
LETTER = re.compile(r"[^\W\d_]")
CREDITS = re.compile(r"^(?:translator[-_ ]?credits|your names?|your e-?mails?)$", re.I)


def normalise(text):
    return " ".join(text.split())


def mnemonic(mark):
    """A mnemonic mark before a letter or digit: not doubled (&& is a literal &), and not between an upper-case
    letter or digit and an upper-case letter, where it joins the words of an identifier (KP_Begin, LC_ALL)."""
    m = re.escape(mark)
    return re.compile(r"(?<!" + m + r")(?<![A-Z0-9](?=" + m + r"[A-Z]))" + m + r"(?=[^\W_])")


MNEMONIC = {mark: mnemonic(mark) for mark in "_&~"}


def mnemonic_marks(sources):
    """The marks a package uses for menu mnemonics (GTK's _File, Qt's &Open, LibreOffice's ~Save): those
    that start a word holding no other mark in at least 0.5% of its entries (and 10). Decided per package
    because LibreOffice marks ~ in only a few of each catalog's strings. Command-line catalogs write
    FIELD_LIST and job_spec but hardly ever start a word with _, so their identifiers keep their underscores;
    &lt; is an entity and GnuCash's ~a a Scheme format directive, neither a mnemonic."""
    marks = []
    for mark in "_&~":
        m = re.escape(mark)
        start = re.compile(r"(?:^|[\s(\[\"'«“])" + m + r"(?![a-z]+;)[^\W_]\w[^\s" + m + r"]*(?:\s|$)")
        n = sum(bool(start.search(source)) for source in sources)
        if n >= max(10, 0.005 * len(sources)):
            marks.append(mark)
    return marks


def word_at(text, i):
    return re.search(r"[\w~&]*$", text[:i]).group() + re.match(r"[\w~&]*", text[i:]).group()


def strip_mnemonics(source, target, marks):
    """Removes each mark's one mnemonic per side. A mark inside a word that occurs unchanged on both sides is
    part of an identifier (service_browser), not a label; at the start of a word it is a mnemonic however
    the word is translated (Base _URL: → _URL base:). A side with more than one candidate is left as it is,
    a label has one mnemonic."""
    stripped = False
    shared = set(re.findall(r"[\w~&]+", source)) & set(re.findall(r"[\w~&]+", target))
    for mark in marks:
        pattern, sides = MNEMONIC[mark], []
        for text in (source, target):
            hits = [m for m in pattern.finditer(text)
                    if not (m.start() and text[m.start() - 1].isalnum() and word_at(text, m.start()) in shared)]
            if len(hits) == 1:
                text = text[:hits[0].start()] + text[hits[0].end():]
                stripped = True
            sides.append(text)
        source, target = sides
    return source, target, stripped


HUMAN_STEPS = ["entries", "drop: empty msgstr", "drop: no letters", "drop: translator credits", "drop: markup",
               "mnemonics stripped", "drop: placeholders differ", "drop: untranslated", "drop: over 60 words",
               "drop: length ratio", "kept"]


def clean_pair(source, target, marks, counts):
    """The cleaned (source, target), or None with the reason counted; marks are the catalog's mnemonics."""
    if not target.strip():
        counts["drop: empty msgstr"] += 1
        return None
    if "|" in source and "|" not in target:  # glib's Q_("context|label"): the translation has no context
        source = source.rsplit("|", 1)[1]
    source, target = normalise(source), normalise(target)
    if not LETTER.search(source) or not LETTER.search(target):
        counts["drop: no letters"] += 1
        return None
    if CREDITS.match(source):
        counts["drop: translator credits"] += 1
        return None
    if MARKUP.search(source) or MARKUP.search(target):
        counts["drop: markup"] += 1
        return None
    source, target, stripped = strip_mnemonics(source, target, marks)
    counts["mnemonics stripped"] += stripped
    if collections.Counter(PLACEHOLDER.findall(source)) != collections.Counter(PLACEHOLDER.findall(target)):
        counts["drop: placeholders differ"] += 1
        return None
    if source == target:
        counts["drop: untranslated"] += 1
        return None
    if len(source.split()) > 60 or len(target.split()) > 60:
        counts["drop: over 60 words"] += 1
        return None
    # Short labels legitimately differ a lot in length (Toolbox → Caja de herramientas); once one side has
    # 20 characters and the other 10, a ratio outside [0.5, 2.2] is a translation of something else, a
    # truncated one, or a paraphrase.
    if max(len(source), len(target)) >= 20 and min(len(source), len(target)) >= 10 \
            and not 0.5 <= len(target) / len(source) <= 2.2:
        counts["drop: length ratio"] += 1
        return None
    counts["kept"] += 1
    return source, target


def dedupe(pairs):
    """One pair per source: the translation given most often, ties to the earliest catalog; the origin is
    the first catalog that gave it."""
    by_source = collections.OrderedDict()
    for source, target, origin in pairs:
        by_source.setdefault(source, []).append((target, origin))
    out = []
    for source, options in by_source.items():
        best = collections.Counter(t for t, _ in options).most_common(1)[0][0]  # ties: first encountered
        out.append((source, best, next(o for t, o in options if t == best)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# General English for the teacher

ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "no", "vol", "cf",
                 "approx", "inc", "ltd", "co", "wm", "ca", "fig", "ed", "ver", "al"}


def sentences(text):
    """Splits running text at . ! ? followed by a capital, except after abbreviations and initials."""
    out, start = [], 0
    for m in re.finditer(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z])", text):
        word = text[start:m.start()].split()[-1] if text[start:m.start()].split() else ""
        word = word.lower().lstrip("\"'(")
        if text[m.start()] == "." and (word in ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def fortunes():
    """Sentences of the fortunes-min files, attribution lines (-- Author) left out."""
    out = []
    for name in ("fortunes", "literature", "riddles"):
        with open(os.path.join(FORTUNES, name), encoding="utf-8", errors="replace") as f:
            for entry in f.read().split("\n%\n"):
                lines = [l for l in entry.splitlines() if not l.strip().startswith("--") and l.strip() != "%"]
                out += sentences(normalise(" ".join(lines)))
    return out


def wordnet_examples():
    """The quoted example sentences of WordNet's glosses (data.noun: `... | definition; "example"`)."""
    out = []
    for part in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET, "data." + part), encoding="latin-1") as f:
            for line in f:
                if not line.startswith("  ") and " | " in line:
                    out += re.findall(r'"([^"]+)"', line.split(" | ", 1)[1])
    return out


def package_descriptions(record):
    """Debian's short descriptions of every available package (apt-cache dumpavail carries only the short
    one), then the long descriptions of the installed ones, split into sentences; preformatted lines (two
    leading spaces) are code or tables and are left out, list items are sentences of their own. Both sets
    change with apt-get update and with every install, so record gets their sizes and a digest of the
    installed packages and versions."""
    out = []
    for line in run(["apt-cache", "dumpavail"]).splitlines():
        if line.startswith("Description: "):
            out.append(line[len("Description: "):])
    record["available packages"] = len(out)
    installed = run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n"])
    record["installed packages"] = installed.count("\n")
    record["installed sha256"] = hashlib.sha256(installed.encode()).hexdigest()
    with open("/var/lib/dpkg/status", encoding="utf-8") as f:
        for stanza in f.read().split("\n\n"):
            lines = stanza.splitlines()
            starts = [i for i, l in enumerate(lines) if l.startswith("Description:")]
            if not starts:
                continue
            paragraph = []
            for l in lines[starts[0] + 1:] + [" ."]:
                if not l.startswith(" "):
                    break
                item = re.match(r"^ +[*\-+o] +(.*)", l)
                if l == " ." or item or l.startswith("  "):
                    out += sentences(normalise(" ".join(paragraph)))
                    paragraph = []
                    if item:
                        out += sentences(item.group(1))
                else:
                    paragraph.append(l)
    return out


def apertium_chunk(lines):
    """Apertium's eng-spa translation of each line. Lines go in separated by blank lines and come out split on
    them: Apertium joins lines across some punctuation, but keeps blank lines."""
    out = subprocess.run(["apertium", "eng-spa"], input="\n\n".join(lines) + "\n", capture_output=True, text=True,
                         check=True).stdout.rstrip("\n").split("\n\n")
    if len(out) != len(lines):
        sys.exit(f"apertium returned {len(out)} lines for {len(lines)}")
    return out


def apertium(lines, workers, chunk=5000):
    """apertium_chunk over fixed chunks of lines, workers at a time. The chunks do not depend on workers
    because a line's translation depends on the lines before it (the tagger reads across blank lines: -w 1
    and -w 2 over one slicing per worker differed in 12 of 43,000 lines)."""
    chunks = [lines[i:i + chunk] for i in range(0, len(lines), chunk)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return [line for part in pool.map(apertium_chunk, chunks) for line in part]


# Words that Apertium's general dictionary gives another sense, counted among ~28,700 translated package
# descriptions that passed the other filters: files → limas (3,026, the tool), data → dato (1,858),
# bindings → encuadernaciones (645), headers → encabezamiento (380); WordNet's examples have the first two
# too (he made a duplicate for the files → limas). A pair with one would teach the wrong word against the
# human catalogs, which say archivos, datos.
WRONG_SENSE = [(r"(?i)\bfiles?\b", r"\blimas?\b"), (r"(?i)\bdata\b", r"\bdato\b"),
               (r"(?i)\bbindings?\b", r"ncuadernaci"), (r"(?i)\bheaders?\b", r"ncabezamiento")]
# Names Apertium translates as words, in the package descriptions only: Python → pitón (1,607), Rust →
# enmohecer (566), GNOME → GNOMO (229), Go → Ir, PostScript → posdata. Elsewhere they are words (Go home!).
SOFTWARE_NAMES = [(r"\bPython\b", r"\b[Pp]it[óo]n"), (r"\bRust\b", r"[Ee]nmohec|[Óó]xido"), (r"\bGNOME\b", r"\bGNOMO\b"),
                  (r"\bGo\b", r"\b[Ii]r\b"), (r"\bPostScript\b", r"[Pp]osdata")]


TEACHER_STEPS = ["sentences", "drop: outside 3-40 words", "drop: no letters", "drop: hyphenated compound",
                 "drop: duplicate",
                 "drop: has a human pair or is in the general test set", "drop: source has * # or @",
                 "drop: apertium error mark", "drop: unknown lower-case word", "drop: software word mistranslated",
                 "kept"]


def teacher_candidates(texts, taken, general, seen, tally):
    """The texts worth giving Apertium: 3–40 words with a letter, no hyphenated compound, not already `seen`
    (which they join), not a source in `taken` (human pairs, dev, held-out) nor in the general test set."""
    out = []
    for text in map(normalise, texts):
        if not 3 <= len(text.split()) <= 40:
            tally["drop: outside 3-40 words"] += 1
        elif not LETTER.search(text):
            tally["drop: no letters"] += 1
        elif re.search(r"\w-\w", text):
            # Apertium glues or splits hyphenated compounds (a low-budget movie → una películadepresupuesto
            # bajo; a well-spoken gentleman → un señorbienhablado): visibly in 557 of the 3,495 that
            # passed every other filter, and most of the rest go word by word (bien-extendió los músculos).
            tally["drop: hyphenated compound"] += 1
        elif text in seen:
            tally["drop: duplicate"] += 1
        elif text in taken or text.lower() in general:
            tally["drop: has a human pair or is in the general test set"] += 1
        else:
            seen.add(text)
            out.append(text)
    return out


def clean_teacher(source, target, kind, counts):
    """Apertium marks unknown words *word, and failed generation #word or transfer @word. An unknown
    capitalised word is a name and passes through unchanged; an unknown lower-case word stays English inside
    the Spanish, so the pair is dropped."""
    if re.search(r"[*#@]", source):
        counts["drop: source has * # or @"] += 1
        return None
    target = normalise(target)
    if re.search(r"[#@]\w", target):
        counts["drop: apertium error mark"] += 1
        return None
    if re.search(r"\*[^\W\d_A-Z]", target):
        counts["drop: unknown lower-case word"] += 1
        return None
    wrong = WRONG_SENSE + (SOFTWARE_NAMES if kind == "package-descriptions" else [])
    if any(re.search(e, source) and re.search(s, target, re.I) for e, s in wrong):
        counts["drop: software word mistranslated"] += 1
        return None
    # Apertium capitalises the first word it translates in a block when the source starts with a capital,
    # also after unknown names (WordNet was → *WordNet Estuvo), and always at the start of a block (able to
    # swim → Capaz de nadar). The word keeps the case of the source word at its position.
    words, english = target.split(), source.split()
    k = 0
    while k < len(words) - 1 and words[k].startswith("*"):
        k += 1
    m = re.match(r"^[¿¡\"'(]*", words[k])
    if k < len(english) and english[k][:1].islower() and words[k][m.end():m.end() + 1].isupper():
        words[k] = words[k][:m.end()] + words[k][m.end()].lower() + words[k][m.end() + 1:]
    target = re.sub(r"\*(?=\w)", "", " ".join(words))
    # Apertium leaves out Spanish's opening ¿ and ¡; they open the last clause (Q: Why…? → Q: ¿Por qué…?).
    m = re.search(r"([?!])[\"')]*$", target)
    if m and "¿¡"["?!".index(m.group(1))] not in target:
        start = max([0] + [b.end() for b in re.finditer(r"[.:;,]\s+|(?:^|\s)[\"“«'(]+", target[:m.start()])])
        target = target[:start] + "¿¡"["?!".index(m.group(1))] + target[start:]
    counts["kept"] += 1
    return source, target


# ---------------------------------------------------------------------------------------------------------------
# Putting it together

def in_order(counts, steps):
    """The counts in pipeline order (entries, what each step dropped, what is left), then any others."""
    return {k: counts[k] for k in steps + sorted(set(counts) - set(steps)) if k in counts}


def write(out, name, pairs):
    for suffix, column in (("en", 0), ("es", 1), ("origin", 2)):
        with open(os.path.join(out, f"{name}.{suffix}"), "w", encoding="utf-8") as f:
            f.write("".join(p[column] + "\n" for p in pairs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", default=os.path.join("data", "en-es"), help="output folder (data/en-es)")
    parser.add_argument("--debs", help="cache of downloaded .debs (OUT/debs)")
    parser.add_argument("--packages", default=",".join(PACKAGES),
                        help="comma-separated packages fetched for their catalogs (" + ",".join(PACKAGES) + ")")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffle of train.* (1)")
    parser.add_argument("-w", "--workers", type=int, default=os.cpu_count(),
                        help="Apertium processes (one per CPU)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    debs = args.debs or os.path.join(args.out, "debs")

    catalogs = installed_catalogs() + downloaded_catalogs([p for p in args.packages.split(",") if p], debs)
    names = [c[0] for c in catalogs]
    missing = [c for c in HELD_OUT + DEV if c not in names]
    if missing:
        sys.exit(f"held-out or dev catalogs not found: {missing}")

    # 1. Human pairs, cleaned catalog by catalog, then split by catalog.
    steps = collections.Counter()
    catalog_rows, split_pairs = [], {"train": [], "dev": [], "test": []}
    counts = {name: collections.Counter() for name, _, _, _ in catalogs}
    raw = {name: read_catalog(path, counts[name]) for name, _, _, path in catalogs}
    marks = {}
    for package in dict.fromkeys(c[1] for c in catalogs):
        marks[package] = mnemonic_marks([s for name, p, _, _ in catalogs if p == package for s, _ in raw[name]])
    for name, package, version, path in catalogs:
        pairs = [clean_pair(s, t, marks[package], counts[name]) for s, t in raw[name]]
        split = "test" if name in HELD_OUT else "dev" if name in DEV else "train"
        split_pairs[split] += [(p[0], p[1], "human:" + name) for p in pairs if p]
        steps.update(counts[name])
        catalog_rows.append({"catalog": name, "package": package, "version": version,
                             "path": path if path.startswith("/") else os.path.relpath(path, args.out),
                             "split": split, "mnemonics": "".join(marks[package]),
                             "counts": in_order(counts[name], HUMAN_STEPS)})

    test = dedupe(split_pairs["test"])
    test_sources = {p[0] for p in test}
    dev = [p for p in dedupe(split_pairs["dev"]) if p[0] not in test_sources]
    general = set()
    if os.path.exists(GENERAL_TEST):
        with open(GENERAL_TEST, encoding="utf-8") as f:
            general = {normalise(l).lower() for l in f if l.strip()}
    held = test_sources | {p[0] for p in dev}
    human_all = dedupe(split_pairs["train"])
    human = [p for p in human_all if p[0] not in held and p[0].lower() not in general]
    human_counts = {"cleaned": len(split_pairs["train"]), "after dedupe": len(human_all),
                    "after removing dev/held-out/general-test sources": len(human)}

    # 2. General English through Apertium: 3–40 words, each sentence once, none that a human pair (of any
    # split) or the general test set already has.
    taken = {p[0] for p in human_all} | held
    teacher_sources, teacher_counts, seen, descriptions_from = [], {}, set(), {}
    for source, texts in (("fortunes", fortunes()), ("wordnet", wordnet_examples()),
                          ("package-descriptions", package_descriptions(descriptions_from))):
        tally = teacher_counts[source] = collections.Counter(sentences=len(texts))
        teacher_sources += [(text, source) for text in teacher_candidates(texts, taken, general, seen, tally)]
    translated = apertium([t for t, _ in teacher_sources], args.workers)
    teacher = []
    for (text, source), spanish in zip(teacher_sources, translated):
        pair = clean_teacher(text, spanish, source, teacher_counts[source])
        if pair:
            teacher.append((pair[0], pair[1], "apertium:" + source))

    train = human + teacher
    random.Random(args.seed).shuffle(train)
    write(args.out, "train", train)
    write(args.out, "dev", dev)
    write(args.out, "test-packages", test)

    totals = {"train": len(train), "train human": len(human), "train apertium": len(teacher), "dev": len(dev),
              "test-packages": len(test)}
    manifest = {
        "version": FORMAT_VERSION,
        "command": " ".join([sys.executable] + sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed,
        "apertium-eng-spa": run(["dpkg-query", "-W", "-f", "${Version}", "apertium-eng-spa"]),
        "apertium": run(["dpkg-query", "-W", "-f", "${Version}", "apertium"]),
        "held_out_catalogs": {c: sum(p[2] == "human:" + c for p in test) for c in HELD_OUT},
        "dev_catalogs": {c: sum(p[2] == "human:" + c for p in dev) for c in DEV},
        "human_steps": in_order(steps, HUMAN_STEPS),
        "human_train": human_counts,
        "apertium_steps": {s: in_order(c, TEACHER_STEPS) for s, c in teacher_counts.items()},
        "package_descriptions_from": descriptions_from,
        "totals": totals,
        "catalogs": catalog_rows,
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")

    print(f"{len(catalogs)} catalogs, {steps['entries']} entries, {steps['kept']} kept after cleaning")
    print(f"train {len(train)}: human {len(human)}, apertium {len(teacher)} "
          f"({', '.join(s + ' ' + str(c['kept']) for s, c in teacher_counts.items())})")
    print(f"dev {len(dev)} ({', '.join(DEV)})")
    print(f"test-packages {len(test)} ({', '.join(HELD_OUT)})")
    print(f"wrote {args.out}/train.*, dev.*, test-packages.*, manifest.json")


if __name__ == "__main__":
    main()
