#!/usr/bin/env python3
"""JPEG fixtures and their cv2.imread references (OpenCV 4.11, libjpeg-turbo 3.0 inside the wheel).

Usage:  Tools/.venv-mediapipe/bin/python Tools/mediapipe/make_jpeg_fixtures.py
Then:   Tools/.venv-mediapipe/bin/python Tools/mediapipe/reference_static.py --images Tests/Fixtures/jpeg \\
            --glob '*.jpg' --cv2 --no-mask-files --out Tests/Fixtures/mediapipe-jpeg

Writes
  Tests/Fixtures/jpeg/<image>.jpg          every Tests/Fixtures/images/*.png as JPEG quality 90 (cv2.imencode)
  Tests/Fixtures/jpeg/astronaut_exif6.jpg  astronaut rotated 90° counter-clockwise, quality 90, with an
                                           EXIF APP1 "Orientation = 6": upright after cv2.imread
  Tests/Fixtures/jpeg/cv2_imread.json      per file: size and SHA-256 of cv2.imread's pixels as RGB
                                           (HWC, row-major), with and without the orientation
  Tests/ImageTests/Fixtures/jpeg/          small decoder cases (37x23 crop): chroma subsamplings, gray,
                                           progressive, restart markers, optimised Huffman tables; the 8
                                           orientations and malformed-EXIF cases (checked against what
                                           cv2.imread does); PNG eXIf cases; bad files (bad_*); manifest.json
                                           as above for every file cv2 decodes that is not bad_*.
Deterministic for a given OpenCV/Pillow version.
"""
import hashlib
import json
import os
import struct
import sys
import zlib

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
IMAGES = os.path.join(ROOT, "Tests", "Fixtures", "images")
POSE_OUT = os.path.join(ROOT, "Tests", "Fixtures", "jpeg")
SMALL_OUT = os.path.join(ROOT, "Tests", "ImageTests", "Fixtures", "jpeg")
QUALITY = 90


def rgb_record(path):
    """cv2.imread (orientation applied) and with IMREAD_IGNORE_ORIENTATION, as RGB SHA-256."""
    rec = {}
    for key, flags in (("", cv2.IMREAD_COLOR), ("_ignore_orientation", cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)):
        bgr = cv2.imread(path, flags)
        if bgr is None:
            raise SystemExit(f"error: cv2.imread cannot read {path}")
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        rec["width" + key], rec["height" + key] = rgb.shape[1], rgb.shape[0]
        rec["rgb_sha256" + key] = hashlib.sha256(rgb.tobytes()).hexdigest()
    return rec


def encode(bgr, *params):
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, QUALITY, *params])
    if not ok:
        raise SystemExit("error: cv2.imencode failed")
    return buf.tobytes()


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def entry(tag, typ, count, value, e):
    return struct.pack(e + "HHI", tag, typ, count) + value


def tiff(entries, n, e="<", mark=None, ifd_offset=8):
    mark = mark or (b"II" if e == "<" else b"MM")
    return mark + struct.pack(e + "HI", 42, ifd_offset) + struct.pack(e + "H", n) + entries + b"\0\0\0\0"


def orientation_entry(value, e="<", typ=3):
    v = struct.pack(e + "HH", value, 0) if typ == 3 else struct.pack(e + "I", value)
    return entry(0x112, typ, 1, v, e)


def exif_app1(tiff_bytes, ident=b"Exif\0\0"):
    return segment(0xE1, ident + tiff_bytes)


def with_segments_after_soi(jpeg, *segments):
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def segment_offsets(jpeg):
    """(marker, offset) of every segment up to and including the first SOS."""
    out, i = [], 2
    while True:
        marker = jpeg[i + 1]
        out.append((marker, i))
        if marker == 0xDA:
            return out
        i += 2 + struct.unpack(">H", jpeg[i + 2:i + 4])[0]


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    os.makedirs(POSE_OUT, exist_ok=True)
    os.makedirs(SMALL_OUT, exist_ok=True)

    # 1. Pose fixtures: every PNG fixture as JPEG q90, plus an EXIF-rotated astronaut.
    pose_manifest = {}
    for name in sorted(os.listdir(IMAGES)):
        if not name.endswith(".png"):
            continue
        bgr = cv2.imread(os.path.join(IMAGES, name), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        path = os.path.join(POSE_OUT, name[:-4] + ".jpg")
        write(path, encode(bgr))
        pose_manifest[os.path.basename(path)] = rgb_record(path)
    astronaut = cv2.imread(os.path.join(IMAGES, "astronaut.png"), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    stored = np.ascontiguousarray(np.rot90(astronaut, 1))  # 90° counter-clockwise; orientation 6 turns it back
    path = os.path.join(POSE_OUT, "astronaut_exif6.jpg")
    write(path, with_segments_after_soi(encode(stored), exif_app1(tiff(orientation_entry(6), 1))))
    pose_manifest["astronaut_exif6.jpg"] = rgb_record(path)
    with open(os.path.join(POSE_OUT, "cv2_imread.json"), "w") as f:
        json.dump(pose_manifest, f, indent=1, sort_keys=True)
        f.write("\n")

    # 2. Small decoder cases on an odd-sized 37x23 crop.
    crop = np.ascontiguousarray(astronaut[5:28, 3:40])
    S = cv2.IMWRITE_JPEG_SAMPLING_FACTOR
    base = encode(crop)
    files = {
        "sub420.jpg": base,
        "sub422.jpg": encode(crop, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422),
        "sub444.jpg": encode(crop, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444),
        "sub440.jpg": encode(crop, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440),
        "sub411.jpg": encode(crop, S, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411),
        "gray.jpg": encode(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)),
        "progressive.jpg": encode(crop, cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
        "restart.jpg": encode(crop, cv2.IMWRITE_JPEG_RST_INTERVAL, 2),
        "optimized.jpg": encode(crop, cv2.IMWRITE_JPEG_OPTIMIZE, 1),
        "big_astronaut_progressive.jpg": encode(astronaut, cv2.IMWRITE_JPEG_PROGRESSIVE, 1),
    }
    # Orientations 1..8 (little- and big-endian TIFF) and malformed EXIF, as cv2.imread reads them.
    L, B = "<", ">"
    for o in range(1, 9):
        files[f"orientation{o}.jpg"] = with_segments_after_soi(base, exif_app1(tiff(orientation_entry(o), 1)))
        files[f"orientation{o}_be.jpg"] = with_segments_after_soi(base, exif_app1(tiff(orientation_entry(o, B), 1, B)))
    sof = [off for marker, off in segment_offsets(base) if marker == 0xC0][0]
    xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>")
    o6 = orientation_entry(6)
    edge = {
        "exif_orientation0.jpg": [exif_app1(tiff(orientation_entry(0), 1))],
        "exif_orientation9.jpg": [exif_app1(tiff(orientation_entry(9), 1))],
        "exif_xmp_first.jpg": [xmp, exif_app1(tiff(o6, 1))],
        "exif_no_ident.jpg": [exif_app1(tiff(o6, 1), ident=b"Abcd\0\0")],
        "exif_mixed_byte_order.jpg": [exif_app1(tiff(orientation_entry(6, B), 1, B, mark=b"IM"))],
        "exif_long_le.jpg": [exif_app1(tiff(orientation_entry(6, L, 4), 1))],
        "exif_long_be.jpg": [exif_app1(tiff(orientation_entry(6, B, 4), 1, B))],
        "exif_count_too_big.jpg": [exif_app1(tiff(o6, 50))],
        "exif_make_out_of_range.jpg": [exif_app1(tiff(entry(0x10F, 2, 20, struct.pack("<I", 5000), L) + o6, 2))],
        "exif_make_inline.jpg": [exif_app1(tiff(entry(0x10F, 2, 4, b"abc\0", L) + o6, 2))],
        "exif_xres_out_of_range.jpg": [exif_app1(tiff(entry(0x11A, 5, 1, struct.pack("<I", 5000), L) + o6, 2))],
        "exif_whitepoint_out_of_range.jpg": [exif_app1(tiff(entry(0x13E, 5, 2, struct.pack("<I", 30), L) + o6, 2))],
        "exif_unknown_tag_first.jpg": [exif_app1(tiff(entry(0x9999, 4, 1, struct.pack("<I", 5000), L) + o6, 2))],
        "exif_exif_ifd_first.jpg": [exif_app1(tiff(entry(0x8769, 4, 1, struct.pack("<I", 99999), L) + orientation_entry(8), 2))],
        "exif_two_orientations.jpg": [exif_app1(tiff(orientation_entry(3) + o6, 2))],
        "exif_ifd_out_of_range.jpg": [exif_app1(tiff(o6, 1, ifd_offset=8)[:4] + struct.pack("<I", 9999) + tiff(o6, 1)[8:])],
        "exif_short_app1_first.jpg": [segment(0xE1, b"Exif"), exif_app1(tiff(o6, 1))],
        "exif_value_truncated.jpg": [exif_app1((b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 1) + o6)[:17])],
        "exif_value_just_fits.jpg": [exif_app1((b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 1) + o6)[:20])],
        "exif_bad_tiff_mark.jpg": [exif_app1(b"II" + struct.pack("<HI", 43, 8) + struct.pack("<H", 1) + o6)],
        "exif_two_app1.jpg": [exif_app1(tiff(orientation_entry(3), 1)), exif_app1(tiff(o6, 1))],
    }
    for name, segs in edge.items():
        files[name] = with_segments_after_soi(base, *segs)
    files["exif_after_sof.jpg"] = base[:sof] + exif_app1(tiff(o6, 1)) + base[sof:]

    # PNG eXIf (cv2.imread applies it too): valid, after the image data, bad CRC, duplicate, bad byte order.
    ok, png = cv2.imencode(".png", crop)
    png = png.tobytes()
    iend = png.rfind(b"IEND") - 4
    t6 = tiff(o6, 1)
    t3 = tiff(orientation_entry(3), 1)
    bad_crc = png_chunk(b"eXIf", t6)[:-1] + b"\0"
    files_png = {
        "png_exif6.png": png[:33] + png_chunk(b"eXIf", t6) + png[33:],
        "png_exif6_after_idat.png": png[:iend] + png_chunk(b"eXIf", t6) + png[iend:],
        "png_exif_bad_crc.png": png[:33] + bad_crc + png_chunk(b"eXIf", t3) + png[33:],
        "png_exif_duplicate.png": png[:33] + png_chunk(b"eXIf", t3) + png_chunk(b"eXIf", t6) + png[33:],
        "png_exif_bad_byte_order.png": png[:33] + png_chunk(b"eXIf", b"Exif\0\0" + t6) + png_chunk(b"eXIf", t3) + png[33:],
    }
    files.update(files_png)
    # Magic bytes, not names: a PNG named .jpg and a JPEG named .png.
    files["png_named.jpg"] = png
    files["jpeg_named.png"] = files["orientation6.jpg"]

    # Bad files: errors, never images. Each is checked to be what its name says.
    scan = [off for marker, off in segment_offsets(base) if marker == 0xDA][0]
    dht = [off for marker, off in segment_offsets(base) if marker == 0xC4][0]
    bad = {}
    bad["bad_truncated.jpg"] = base[:scan + (len(base) - scan) // 2]
    corrupt = bytearray(base)
    start = scan + 20
    corrupt[start:start + 40] = b"\xFF\x00" * 20  # all-ones bits: no valid Huffman code
    bad["bad_huffman_data.jpg"] = bytes(corrupt)
    table = bytearray(base)
    table[dht + 5:dht + 21] = b"\xFF" * 16  # code counts sum far beyond 256: bogus table
    bad["bad_huffman_table.jpg"] = bytes(table)

    def patch_sof(offset_in_payload, value_bytes):
        b = bytearray(base)
        p = sof + 4 + offset_in_payload
        b[p:p + len(value_bytes)] = value_bytes
        return bytes(b)
    bad["bad_zero_size.jpg"] = patch_sof(1, struct.pack(">HH", 0, 0))
    bad["bad_oversized_side.jpg"] = patch_sof(1, struct.pack(">HH", 8, 20000))
    bad["bad_oversized_area.jpg"] = patch_sof(1, struct.pack(">HH", 10000, 10000))
    bad["bad_12bit.jpg"] = patch_sof(0, b"\x0C")
    lossless = bytearray(base)
    lossless[sof + 1] = 0xC3
    bad["bad_lossless.jpg"] = bytes(lossless)
    buf = __import__("io").BytesIO()
    Image.fromarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)).convert("CMYK").save(buf, "JPEG", quality=QUALITY)
    bad["bad_cmyk.jpg"] = buf.getvalue()
    bad["bad_not_an_image.jpg"] = b"GIF89a" + b"\0" * 32
    files.update(bad)

    manifest = {}
    for name, data in sorted(files.items()):
        path = os.path.join(SMALL_OUT, name)
        write(path, data)
        if not name.startswith("bad_"):
            manifest[name] = rgb_record(path)
    with open(os.path.join(SMALL_OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(pose_manifest)} pose JPEGs to {POSE_OUT} and {len(files)} small cases to {SMALL_OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
