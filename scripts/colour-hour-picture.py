"""The README's picture of an hour of colour training (scripts/colour-hour.sh): for each folder
given, the hierarchical model's and conv-colour's reconstructions side by side, then their
samples (the hierarchical model's with the lower groups drawn at temperature 0.8), then their
morphs (the hierarchical model's moving every group), each row labelled.

    python3 scripts/colour-hour-picture.py OUT.png RUNS NAME [NAME ...]
    e.g. python3 scripts/colour-hour-picture.py Sources/VAEToolkit/VAEToolkit.docc/Resources/hierarchical-colour-hour.png runs/colour-hour emoji icons

Needs Pillow (pip install pillow) and the DejaVu fonts (Debian's fonts-dejavu-core).
"""
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 15)
BOLD = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 17)


def labelled(text, image, font=FONT):
    """`image` with `text` above it on white."""
    canvas = Image.new("RGB", (max(image.width, 10 + int(font.getlength(text))), image.height + 24), "white")
    ImageDraw.Draw(canvas).text((4, 3), text, fill="black", font=font)
    canvas.paste(image, (0, 24))
    return canvas


def side_by_side(images, gap=16):
    canvas = Image.new("RGB", (sum(i.width for i in images) + gap * (len(images) - 1), max(i.height for i in images)), "white")
    x = 0
    for image in images:
        canvas.paste(image, (x, 0))
        x += image.width + gap
    return canvas


def stacked(images, gap=10):
    canvas = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images) + gap * (len(images) - 1)), "white")
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height + gap
    return canvas


def main(out, runs, names):
    sections = []
    for name in names:
        hierarchical, conv = f"{runs}/{name}-hierarchical/pictures", f"{runs}/{name}-conv/pictures"
        picture = lambda folder, file: Image.open(f"{folder}/{file}.png").convert("RGB")
        rows = [
            labelled(f"{name}: test pictures over their reconstructions (z = mean)", side_by_side([
                labelled("hierarchical-colour", picture(hierarchical, "reconstructions")),
                labelled("conv-colour", picture(conv, "reconstructions"))]), BOLD),
            labelled("hierarchical-colour samples, lower groups drawn at temperature 0.8", picture(hierarchical, "samples-drawn")),
            labelled("conv-colour samples", picture(conv, "samples")),
            labelled("morphs between two test pictures: hierarchical-colour (every group), conv-colour", stacked([
                picture(hierarchical, "morph-all-groups"), picture(conv, "morph")], gap=4)),
        ]
        sections.append(stacked(rows))
    stacked(sections, gap=28).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
