#!/usr/bin/env python3
"""Image fixtures for `tsnn infer`: real photos and torchvision's ImageNet preprocessing of them.

    /usr/bin/python3 scripts/make_image_fixtures.py      (needs python3-pil; downloads the
                                                         python3-skimage .deb for its sample photos)

Photos: scikit-image's `chelsea.png` (a cat) and `coffee.png` (a coffee cup), both free to
reuse (scikit-image data, public domain / CC0), from Debian's python3-skimage package. Written
to test/fixtures/images/: chelsea.jpg (JPEG, quality 92), coffee.png (PNG, downscaled to 300
wide), and for each the 224x224 result of torchvision's Resize(256) + CenterCrop(224) as a
lossless PNG, plus expected.json with PyTorch's logits and top-5 for ImageNet ResNet-18 with the
deterministic weights of make_fixtures.py.

    /usr/bin/python3 scripts/make_image_fixtures.py --cmyk   (only the CMYK fixture; no download)

PNG formats: small PNGs of every colour type and bit depth, plain and Adam7-interlaced, every row
filter type in turn, written by a minimal encoder here (PIL cannot write most of them) and decoded
by PIL (convert("L") for grey and grey+alpha, convert("RGB") for the rest): png_formats.json holds
each file and PIL's pixels, which tsnn's PNG decoder must reproduce exactly.

    /usr/bin/python3 scripts/make_image_fixtures.py --pngs   (only png_formats.json; no download)

Bicubic: torchvision's Resize(256, BICUBIC) + CenterCrop(224) (EfficientNet-B0's preset) of both
photos, as <photo>.bicubic256_224.png.

    /usr/bin/python3 scripts/make_image_fixtures.py --bicubic   (only those; no download)

CMYK: coffee.png's colours as C, M, Y with a diagonal K ramp, saved by PIL as a CMYK JPEG
(coffee_cmyk.jpg, Adobe polarity as PIL writes it) and PIL's own decoding + convert("RGB") of it
(coffee_cmyk.pil_rgb.png): what tsnn must reproduce.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import torch
import torchvision.models as tvm
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import det_state_dict  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "images")


def cmyk():
    rgb = Image.open(os.path.join(OUT, "coffee.png")).convert("RGB")
    w, h = rgb.size
    r, g, b = rgb.split()
    inv = lambda band: band.point(lambda v: 255 - v)  # noqa: E731
    k = Image.new("L", (w, h))
    k.putdata([min(255, (x + y) * 255 // (w + h - 2)) for y in range(h) for x in range(w)])
    img = Image.merge("CMYK", (inv(r), inv(g), inv(b), k))
    path = os.path.join(OUT, "coffee_cmyk.jpg")
    img.save(path, quality=90)
    back = Image.open(path)
    assert back.mode == "CMYK", back.mode
    back.convert("RGB").save(os.path.join(OUT, "coffee_cmyk.pil_rgb.png"))
    print("coffee_cmyk.jpg", back.size, back.mode)


def png_bytes(width, height, color_type, depth, interlace, samples, palette=None):
    """A PNG from per-pixel sample rows (lists of ints), rows filtered with types 0..4 in turn."""
    import random
    import struct
    import zlib
    spp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = max(1, spp * depth // 8)

    def pack(row):
        flat = [v for px in row for v in px]
        if depth == 16:
            return b"".join(struct.pack(">H", v) for v in flat)
        if depth == 8:
            return bytes(flat)
        out, acc, n = bytearray(), 0, 0
        for v in flat:
            acc, n = (acc << depth) | v, n + depth
            if n == 8:
                out.append(acc)
                acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        return bytes(out)

    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    def filtered(rows):
        out, prev = bytearray(), None
        for k, raw in enumerate(rows):
            prev = prev or bytes(len(raw))
            f = k % 5
            line = bytearray([f])
            for i, x in enumerate(raw):
                a = raw[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][f]
                line.append((x - pred) & 255)
            out += line
            prev = raw
        return bytes(out)

    if interlace:
        data = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            rows = [pack([samples[y][x] for x in range(x0, width, dx)]) for y in range(y0, height, dy)]
            if rows and rows[0]:
                data += filtered(rows)
    else:
        data = filtered([pack(r) for r in samples])

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    plte = chunk(b"PLTE", bytes(palette)) if palette else b""
    rnd = random.Random(len(data))
    idat = zlib.compress(data, 9)
    cut = rnd.randrange(1, len(idat)) if len(idat) > 2 else len(idat)  # two IDAT chunks
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + plte + chunk(b"IDAT", idat[:cut]) + chunk(b"IDAT", idat[cut:]) + chunk(b"IEND", b"")


def pngs():
    import base64
    import io
    import random
    rnd = random.Random(0)
    cases = []
    for ct, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])]:
        for depth in depths:
            for interlace in (0, 1):
                w, h = 13, 11
                spp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
                top = (1 << depth) - 1
                palette = None
                if ct == 3:
                    n = rnd.randrange(1, (1 << depth) + 1)
                    palette = [rnd.randrange(256) for _ in range(3 * n)]
                    top = n - 1
                samples = [[[rnd.randrange(top + 1) for _ in range(spp)] for _ in range(w)] for _ in range(h)]
                data = png_bytes(w, h, ct, depth, interlace, samples, palette)
                im = Image.open(io.BytesIO(data))
                ref = im.convert("L" if ct in (0, 4) else "RGB")
                cases.append({"name": f"ct{ct}_d{depth}_i{interlace}", "pilMode": im.mode, "png": base64.b64encode(data).decode(),
                              "size": [w, h], "channels": 1 if ct in (0, 4) else 3, "pixels": base64.b64encode(ref.tobytes()).decode()})
    with open(os.path.join(OUT, "png_formats.json"), "w") as f:
        json.dump(cases, f, indent=0)
    print("png_formats.json:", len(cases), "PNGs")


def bicubic():
    t = T.Compose([T.Resize(256, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])
    for name in ("chelsea.jpg", "coffee.png"):
        img = Image.open(os.path.join(OUT, name)).convert("RGB")
        t(img).save(os.path.join(OUT, name.rsplit(".", 1)[0] + ".bicubic256_224.png"))
        print(name, "bicubic 256 -> 224")


def main():
    os.makedirs(OUT, exist_ok=True)
    if "--bicubic" in sys.argv:
        bicubic()
        return
    if "--cmyk" in sys.argv:
        cmyk()
        return
    if "--pngs" in sys.argv:
        pngs()
        return
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["apt-get", "download", "python3-skimage"], cwd=d, check=True, capture_output=True)
        deb = glob.glob(os.path.join(d, "python3-skimage_*.deb"))[0]
        subprocess.run(["dpkg", "-x", deb, os.path.join(d, "x")], check=True)
        data = glob.glob(os.path.join(d, "x", "usr", "lib", "python3*", "dist-packages", "skimage", "data"))[0]
        Image.open(os.path.join(data, "chelsea.png")).convert("RGB").save(os.path.join(OUT, "chelsea.jpg"), quality=92)
        coffee = Image.open(os.path.join(data, "coffee.png")).convert("RGB")
        coffee.resize((300, 200), Image.BILINEAR).save(os.path.join(OUT, "coffee.png"))

    resize_crop = T.Compose([T.Resize(256), T.CenterCrop(224)])
    to_input = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    m = tvm.resnet18().eval()
    det_state_dict(m)
    expected = {}
    for name in ("chelsea.jpg", "coffee.png"):
        img = Image.open(os.path.join(OUT, name)).convert("RGB")
        crop = resize_crop(img)
        crop.save(os.path.join(OUT, name.rsplit(".", 1)[0] + ".torchvision224.png"))
        with torch.no_grad():
            logits = m(to_input(crop).unsqueeze(0))[0]
        top = torch.topk(logits, 5)
        expected[name] = {"size": list(img.size), "top5": top.indices.tolist(), "top5Logits": top.values.tolist()}
        print(name, img.size, expected[name])
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    cmyk()
    pngs()
    bicubic()
    for n in sorted(os.listdir(OUT)):
        print(f"{n}: {os.path.getsize(os.path.join(OUT, n))} bytes")


if __name__ == "__main__":
    main()
