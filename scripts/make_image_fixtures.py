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


def main():
    os.makedirs(OUT, exist_ok=True)
    if "--cmyk" in sys.argv:
        cmyk()
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
    for n in sorted(os.listdir(OUT)):
        print(f"{n}: {os.path.getsize(os.path.join(OUT, n))} bytes")


if __name__ == "__main__":
    main()
