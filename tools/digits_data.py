"""Digit pictures as users make them, for tools/train_digits_densenet.py: the
preprocessing hibiki runs before the digits model ("fit_ink" in config.json;
src/models/image-input.ts is the same in TypeScript), typed digits in the
fonts Debian ships, and the augmentations training draws from.

Fonts come from Debian's font packages (the list is FONT_PACKAGES; the
README in models/digits-densenet names them). Fonts that are one design
under several names (Nimbus Roman, TeX Gyre Termes, FreeSerif, Liberation
Serif are all Times) form one group, and groups are split, so no test font
is a clone of a training one. The test fonts' digits are written once, as a
sheet, to test/fixtures/digits-densenet/typed-test-fonts.png; training never
renders them.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 tools/digits_data.py --list
"""
import argparse
import hashlib
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PACKAGES = (
    "fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 "
    "fonts-noto-core fonts-roboto fonts-open-sans fonts-lato fonts-crosextra-carlito fonts-crosextra-caladea "
    "fonts-linuxlibertine fonts-cantarell fonts-firacode fonts-hack fonts-inconsolata fonts-texgyre fonts-ebgaramond "
    "fonts-comic-neue fonts-jetbrains-mono fonts-lmodern fonts-go fonts-quicksand fonts-oxygen fonts-dosis "
    "fonts-league-mono fonts-junicode fonts-gfs-artemisia fonts-sil-gentium fonts-sil-charis fonts-sil-andika "
    "fonts-averia-serif-gwf fonts-averia-sans-gwf fonts-femkeklaver fonts-breip fonts-dkg-handwriting"
).split()

# Not text faces (math, symbols, keycaps, initials) or script-specific Noto faces that repeat Noto Sans's digits.
EXCLUDE = ("noto sans ", "noto serif ", "noto kufi", "noto naskh", "noto nastaliq", "noto rashi", "noto music",
           "noto looped", "noto traditional", "noto znamenny", "math", "symbol", "emoji", "dingbat", "d050000l",
           "mathjax", "fallback", "keyboard", "initials", "cmex", "cmmi", "cmsy", "esint", "eufm", "msam", "msbm",
           "stmary", "wasy", "caps", "dunhill")
KEEP_NOTO = ("noto sans", "noto serif", "noto sans mono", "noto serif display", "noto sans display")

# One design, several names: each maps to the group it is a clone of.
CLONES = {
    "nimbus roman": "times", "tex gyre termes": "times", "freeserif": "times", "liberation serif": "times",
    "nimbus sans": "helvetica", "nimbus sans narrow": "helvetica", "tex gyre heros": "helvetica",
    "tex gyre heros cn": "helvetica", "freesans": "helvetica", "liberation sans": "helvetica",
    "liberation sans narrow": "helvetica",
    "nimbus mono ps": "courier", "tex gyre cursor": "courier", "freemono": "courier", "liberation mono": "courier",
    "p052": "palatino", "tex gyre pagella": "palatino", "c059": "schoolbook", "tex gyre schola": "schoolbook",
    "urw bookman": "bookman", "tex gyre bonum": "bookman", "urw gothic": "avantgarde", "tex gyre adventor": "avantgarde",
    "z003": "chancery", "tex gyre chorus": "chancery", "carlito": "calibri-metric", "caladea": "cambria-metric",
    "gentiumalt": "gentium",
}


def group_of(family):
    f = family.lower()
    if f in CLONES:
        return CLONES[f]
    if f.startswith("latin modern") or f.startswith("cm"):
        return "computer modern"
    return f.split()[0]


def fonts():
    """[(family, style, file)] of the text faces installed, each with the digits 0–9."""
    out = subprocess.run(["fc-list", ":charset=30 31 32 33 34 35 36 37 38 39", "family", "style", "file"],
                         check=True, capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        path, _, rest = line.partition(": ")
        family, _, style = rest.partition(":style=")
        family = family.split(",")[0].strip()
        style = style.split(",")[0].strip()
        low = family.lower()
        if low.startswith("noto") and low not in KEEP_NOTO:
            continue
        if any(word in low for word in EXCLUDE) and low not in KEEP_NOTO:
            continue
        if not path.endswith((".ttf", ".otf", ".pfb", ".t1")) or "oblique" in style.lower() and "bold" in style.lower():
            continue
        found.append((family, style, path))
    # One file per face (URW's fonts come as .otf, .t1 and .ttf): TrueType or OpenType first.
    unique = {}
    for family, style, path in sorted(found, key=lambda f: (f[0], f[1], not f[2].endswith((".ttf", ".otf")), f[2])):
        unique.setdefault((family, style), path)
    return [(family, style, path) for (family, style), path in sorted(unique.items())]


def split_of(group):
    """'test' for about a quarter of the design groups (by a hash of the name), 'train' for the rest."""
    return "test" if int(hashlib.sha256(group.encode()).hexdigest(), 16) % 4 == 0 else "train"


def font_split():
    """{"train": [(family, style, file)], "test": [...]}: regular, bold and italic faces, split by design group."""
    faces = [f for f in fonts() if f[1].lower() in ("regular", "bold", "italic", "book", "roman", "medium", "normal")]
    split = {"train": [], "test": []}
    for face in faces:
        split[split_of(group_of(face[0]))].append(face)
    return split


# ---------------------------------------------------------------------------
# The preprocessing hibiki runs ("fit_ink"), in numpy
# ---------------------------------------------------------------------------

def ink_fit(rgb, out_h=8, out_w=8):
    """An image [H, W, 3] uint8 → the ink map [out_h, out_w] float64 in 0–1 that the model reads, whatever the
    colours, polarity, margins and size:
      background = each channel's median over the border pixels (the lower middle value);
      distance   = the largest channel difference from the background, 0–255;
      level      = the 90th percentile (lower) of the distances above half the largest one: the ink's;
      ink        = (distance − level/5) / (level − level/5), clipped to 0–1 (nothing when level < 24);
    then the bounding box of ink > 0 is scaled to fit out_h × out_w, aspect kept, centred, by area
    averaging (each output cell the mean ink over the source area it covers)."""
    rgb = rgb.astype(np.int64)
    H, W, _ = rgb.shape
    border = np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]]) if H > 1 and W > 1 else rgb.reshape(-1, 3)
    background = np.sort(border, axis=0)[(len(border) - 1) // 2]
    distance = np.abs(rgb - background).max(axis=2)
    top = distance.max()
    strong = np.sort(distance[distance * 2 > top])
    level = strong[int(0.9 * (len(strong) - 1))] if len(strong) else 0
    out = np.zeros((out_h, out_w))
    if level < 24:
        return out
    floor = level / 5
    ink = np.clip((distance - floor) / (level - floor), 0, 1)
    rows, cols = np.nonzero(ink > 0)
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    h, w = y1 - y0, x1 - x0
    s = min(out_h / h, out_w / w)
    top_edge, left_edge = (out_h - h * s) / 2, (out_w - w * s) / 2
    ay = area_weights(out_h, y0, h, s, top_edge)
    ax = area_weights(out_w, x0, w, s, left_edge)
    return ay @ ink[y0:y1, x0:x1] @ ax.T


def area_weights(n_out, start, n_in, s, edge):
    """[n_out, n_in]: output cell o covers source [start + (o − edge)/s, start + (o + 1 − edge)/s); row o weights
    each source pixel of the box by its overlap, over the cell's length (pixels outside the box hold no ink)."""
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        a, b = (o - edge) / s, (o + 1 - edge) / s  # relative to the box
        for p in range(max(0, int(np.floor(a))), min(n_in, int(np.ceil(b)))):
            weights[o, p] = max(0.0, min(b, p + 1) - max(a, p)) / (b - a)
    return weights


# ---------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------

def typed(font_file, digit, canvas=64, size=44):
    """The digit in the font, dark on white, centred in a canvas×canvas grey picture (a 44-px glyph in 64 px, as
    someone typing a digit into an image editor gets it)."""
    font = ImageFont.truetype(font_file, size)
    image = Image.new("L", (canvas, canvas), 255)
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = draw.textbbox((0, 0), str(digit), font=font)
    draw.text(((canvas - (x1 - x0)) / 2 - x0, (canvas - (y1 - y0)) / 2 - y0), str(digit), font=font, fill=0)
    return np.asarray(image)


def colourise(ink, rng, mode):
    """An ink map (float 0–1, ink high) → RGB uint8: 'plain' dark on white, 'inverted' light on dark, 'colour'
    random ink and paper colours at least 100 apart in some channel."""
    if mode == "plain":
        paper, pen = np.array([255, 255, 255]), np.array([0, 0, 0])
    elif mode == "inverted":
        paper, pen = np.array([0, 0, 0]), np.array([255, 255, 255])
    else:
        while True:
            paper, pen = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            if np.abs(paper - pen).max() >= 100:
                break
    return np.rint(paper + ink[..., None] * (pen - paper)).astype(np.uint8)


def augment(ink, rng):
    """A training picture from a glyph's ink map (float 0–1, any size): rotated, sheared, thickened or
    thinned, on a canvas with margins, resized, coloured and noisy, as RGB uint8."""
    image = Image.fromarray(np.rint(ink * 255).astype(np.uint8), "L")
    if image.width < 32:
        image = image.resize((image.width * 4, image.height * 4), Image.BILINEAR)
    shear = rng.uniform(-0.25, 0.25)
    image = image.transform(image.size, Image.AFFINE, (1, shear, -shear * image.height / 2, 0, 1, 0), Image.BILINEAR)
    image = image.rotate(rng.uniform(-12, 12), Image.BILINEAR, expand=True)
    stroke = rng.random()
    if stroke < 0.25:
        image = image.filter(ImageFilter.MaxFilter(3))
    elif stroke < 0.4:
        image = image.filter(ImageFilter.MinFilter(3))
    box = image.getbbox()
    if box is None:
        return None
    glyph = image.crop(box)
    w, h = glyph.size
    aspect = rng.uniform(0.8, 1.25)
    glyph = glyph.resize((max(1, round(w * aspect)), h), Image.BILINEAR)
    w, h = glyph.size
    canvas_w = round(w * rng.uniform(1.0, 3.0)) + 2
    canvas_h = round(h * rng.uniform(1.0, 3.0)) + 2
    canvas = Image.new("L", (canvas_w, canvas_h), 0)
    canvas.paste(glyph, (int(rng.integers(0, canvas_w - w + 1)), int(rng.integers(0, canvas_h - h + 1))))
    side = int(rng.choice([8, 12, 16, 24, 32, 48, 64, 96]))
    scale = side / max(canvas_w, canvas_h)
    canvas = canvas.resize((max(1, round(canvas_w * scale)), max(1, round(canvas_h * scale))), Image.BOX)
    mode = rng.choice(["plain", "inverted", "colour"], p=[0.5, 0.2, 0.3])
    rgb = colourise(np.asarray(canvas) / 255.0, rng, mode).astype(np.float64)
    if rng.random() < 0.3:
        rgb += rng.normal(0, rng.uniform(2, 12), rgb.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def test_faces(faces):
    """The test split's faces, at most the regular, bold and italic of one family per design group, so that a
    design with many clones (Helvetica has eight names here) does not outweigh the others."""
    chosen, families = [], {}
    for family, style, file in faces:
        group = group_of(family)
        families.setdefault(group, family)
        if family == families[group]:
            chosen.append((family, style, file))
    return chosen


def typed_sheet(faces, path):
    """The test fonts' digits as one grey PNG: a row per face, digits 0–9 left to right, 64×64 each."""
    sheet = np.full((64 * len(faces), 640), 255, np.uint8)
    for row, (_, _, file) in enumerate(faces):
        for d in range(10):
            sheet[row * 64:(row + 1) * 64, d * 64:(d + 1) * 64] = typed(file, d)
    Image.fromarray(sheet, "L").save(path, optimize=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="print the fonts, their groups and splits")
    parser.add_argument("--sheet", help="write the test fonts' typed digits here")
    args = parser.parse_args()
    split = font_split()
    if args.list:
        for name, faces in split.items():
            for family, style, file in faces:
                print(f"{name}\t{group_of(family)}\t{family}\t{style}\t{file}")
        print(f"train {len(split['train'])} faces, test {len(split['test'])}", file=sys.stderr)
    if args.sheet:
        faces = test_faces(split["test"])
        typed_sheet(faces, args.sheet)
        with open(args.sheet.rsplit(".", 1)[0] + ".txt", "w") as f:
            f.write("".join(f"{family}\t{style}\n" for family, style, _ in faces))
        print(f"{len(faces)} test faces -> {args.sheet}")


if __name__ == "__main__":
    main()
