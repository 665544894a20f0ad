"""The README's picture of dSprites as `vae data --make dsprites` draws it: one row per factor,
that factor stepped over its values while the others stay at a middle value, each image
labelled with the value it shows.

    python3 scripts/dsprites-picture.py data/dsprites/dsprites-rendered.npz Sources/VAEToolkit/VAEToolkit.docc/Resources/dsprites-factors.png

Needs NumPy and Pillow (pip install numpy pillow) and the DejaVu fonts (fonts-dejavu-core).
"""
import math
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZES = [1, 3, 6, 40, 32, 32]
NAMES = ["color", "shape", "scale", "orientation", "posX", "posY"]
SHAPES = ["square", "ellipse", "heart"]


def index(classes):
    result = 0
    for size, value in zip(SIZES, classes):
        result = result * size + value
    return result


def main(source, out):
    archive = np.load(source)
    images, values = archive["imgs"], archive["latents_values"]
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 12)
    bold = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 13)
    middle = [0, 2, 3, 5, 16, 16]   # a heart at scale 0.8, turned a little, in the middle
    rows = [(1, [0, 1, 2]), (2, list(range(6))), (3, [0, 3, 5, 8, 10, 15, 20, 30]), (4, [0, 5, 10, 15, 20, 25, 31]), (5, [0, 5, 10, 15, 20, 25, 31])]
    cell, scale, label_width = 64, 1, 110
    width = label_width + 8 * (cell + 8)
    canvas = Image.new("RGB", (width, len(rows) * (cell + 26) + 6), "white")
    draw = ImageDraw.Draw(canvas)
    for row, (factor, steps) in enumerate(rows):
        top = row * (cell + 26) + 4
        draw.text((4, top + cell // 2 - 8), NAMES[factor], fill="black", font=bold)
        for column, step in enumerate(steps):
            classes = list(middle)
            classes[factor] = step
            i = index(classes)
            picture = Image.fromarray((255 - images[i] * 255).astype(np.uint8)).convert("RGB")
            left = label_width + column * (cell + 8)
            canvas.paste(picture, (left, top))
            draw.rectangle((left - 1, top - 1, left + cell, top + cell), outline=(150, 150, 150))
            value = values[i, factor]
            text = SHAPES[int(value) - 1] if factor == 1 else (f"{value / math.pi:.2f}π" if factor == 3 else f"{value:.2f}")
            draw.text((left + 2, top + cell + 3), text, fill="black", font=font)
    canvas.save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
