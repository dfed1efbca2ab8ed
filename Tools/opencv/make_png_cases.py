#!/usr/bin/env python3
"""Writes tiny PNG test files of every colour type / bit depth plus broken ones, and the RGB8
that OpenCV's cv2.imread(IMREAD_COLOR) + BGR2RGB decodes from each valid one (MediaPipe's Python path).

PNGs are assembled by hand (zlib + CRC) so every colour type is covered, including palette+tRNS
and gray+alpha that cv2.imwrite cannot write.

Run: $(bash Tools/opencv/venv.sh | tail -1) Tools/opencv/make_png_cases.py
Output: Tests/ImageTests/Fixtures/png/<name>.png and <name>.rgb (raw HWC RGB8 from OpenCV).
"""
import os, struct, zlib
import numpy as np
import cv2

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ImageTests", "Fixtures", "png")
rng = np.random.default_rng(20240611)


def chunk(tag, data):
    body = tag + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, depth, ctype, rows, extra=b""):
    """rows: list of bytes objects (already packed samples, no filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def pack_bits(values, depth):
    out, acc, n = bytearray(), 0, 0
    for v in values:
        acc = (acc << depth) | int(v)
        n += depth
        if n == 8:
            out.append(acc); acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


def cases():
    w, h = 7, 5
    c = {}
    a8 = rng.integers(0, 256, size=(h, w, 4), dtype=np.uint8)
    a16 = rng.integers(0, 65536, size=(h, w, 4), dtype=np.uint16)
    c["gray8"] = png(w, h, 8, 0, [a8[y, :, 0].tobytes() for y in range(h)])
    c["gray1"] = png(w, h, 1, 0, [pack_bits(a8[y, :, 0] & 1, 1) for y in range(h)])
    c["gray4"] = png(w, h, 4, 0, [pack_bits(a8[y, :, 0] & 15, 4) for y in range(h)])
    c["gray_alpha8"] = png(w, h, 8, 4, [a8[y, :, :2].tobytes() for y in range(h)])
    c["rgb8"] = png(w, h, 8, 2, [a8[y, :, :3].tobytes() for y in range(h)])
    # Colour-management chunks written by common tools (gAMA 1/2.2, sRGB); cv2 ignores them.
    c["rgb8_gama45455"] = png(w, h, 8, 2, [a8[y, :, :3].tobytes() for y in range(h)], chunk(b"gAMA", struct.pack(">I", 45455)))
    c["rgb8_srgb"] = png(w, h, 8, 2, [a8[y, :, :3].tobytes() for y in range(h)], chunk(b"sRGB", b"\x00"))
    c["rgb8_gama100000"] = png(w, h, 8, 2, [a8[y, :, :3].tobytes() for y in range(h)], chunk(b"gAMA", struct.pack(">I", 100000)))
    c["rgba8"] = png(w, h, 8, 6, [a8[y].tobytes() for y in range(h)])
    pal = rng.integers(0, 256, size=(16, 3), dtype=np.uint8)
    trns = rng.integers(0, 256, size=(16,), dtype=np.uint8)
    idx = a8[:, :, 0] & 15
    c["palette8_trns"] = png(w, h, 8, 3, [idx[y].astype(np.uint8).tobytes() for y in range(h)],
                             chunk(b"PLTE", pal.tobytes()) + chunk(b"tRNS", trns.tobytes()))
    c["palette4"] = png(w, h, 4, 3, [pack_bits(idx[y], 4) for y in range(h)], chunk(b"PLTE", pal.tobytes()))
    be = lambda arr: arr.astype(">u2").tobytes()
    c["gray16"] = png(w, h, 16, 0, [be(a16[y, :, 0]) for y in range(h)])
    c["gray_alpha16"] = png(w, h, 16, 4, [be(a16[y, :, :2]) for y in range(h)])
    c["rgb16"] = png(w, h, 16, 2, [be(a16[y, :, :3]) for y in range(h)])
    c["rgb16_gama45455"] = png(w, h, 16, 2, [be(a16[y, :, :3]) for y in range(h)], chunk(b"gAMA", struct.pack(">I", 45455)))
    c["rgba16"] = png(w, h, 16, 6, [be(a16[y]) for y in range(h)])
    return c


def broken(good):
    b = {}
    b["bad_not_png"] = b"GIF89a this is not a png at all"
    b["bad_truncated"] = good[: len(good) // 2]
    corrupt = bytearray(good)
    corrupt[len(good) - 20] ^= 0xFF  # inside IDAT data: CRC no longer matches
    b["bad_corrupt"] = bytes(corrupt)
    zero = png(0, 0, 8, 2, [])
    b["bad_zero_size"] = zero
    # 20000 x 20000 (over the 16384 side limit) and 12000 x 12000 (under the side limit but over
    # the 64 Mpx cap): only IHDR is rewritten, with its CRC fixed, the IDAT stays tiny.
    for name, side in (("bad_oversized_side", 20000), ("bad_oversized_area", 12000)):
        ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
        b[name] = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    return b


def main():
    os.makedirs(OUT, exist_ok=True)
    good = cases()
    for name, data in good.items():
        path = os.path.join(OUT, name + ".png")
        open(path, "wb").write(data)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        assert img is not None and img.dtype == np.uint8, name
        open(os.path.join(OUT, name + ".rgb"), "wb").write(cv2.cvtColor(img, cv2.COLOR_BGR2RGB).tobytes())
    for name, data in broken(good["rgb8"]).items():
        open(os.path.join(OUT, name + ".png"), "wb").write(data)
    print("opencv", cv2.__version__, "wrote", len(good), "valid and broken cases to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
