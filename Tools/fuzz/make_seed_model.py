#!/usr/bin/env python3
"""Writes a tiny, valid TFLite model by hand (no flatbuffers library) that exercises every decoder path
the pose models use plus some they do not: a block-sparse FLOAT16 constant (CSR level with a Uint8Vector
of segments and a Uint16Vector of indices, one 2-wide block dim) -> DENSIFY -> DEQUANTIZE -> CONV_2D
(RELU6) after a PAD, then MAX_POOL_2D. ~1.5 KB: a fast libFuzzer seed and a unit-test fixture whose
LiteRT reference values come from Tools/litert/dump_constants.py.

Usage: python3 Tools/fuzz/make_seed_model.py OUT.tflite   (standard library only)
"""
import struct
import sys


class Table:
    def __init__(self, *fields):
        self.fields = fields  # (id, fmt, value); fmt is a struct code or "off" (value = child node)


class Vec:
    def __init__(self, fmt, items, align=4):
        self.fmt, self.items, self.align = fmt, items, align


class TableVec:
    def __init__(self, tables):
        self.tables = tables


class Str:
    def __init__(self, text):
        self.text = text


class Writer:
    """Front-to-back layout: every child is written after its parent, so all uoffsets point forward."""

    def __init__(self):
        self.b = bytearray(b"\0\0\0\0TFL3")

    def pad(self, alignment, extra=0):
        while (len(self.b) + extra) % alignment:
            self.b.append(0)

    def write(self, node):
        if isinstance(node, Str):
            self.pad(4)
            at = len(self.b)
            data = node.text.encode()
            self.b += struct.pack("<I", len(data)) + data + b"\0"
            return at
        if isinstance(node, Vec):
            size = struct.calcsize("<" + node.fmt)
            self.pad(max(4, size, node.align), extra=4)
            at = len(self.b)
            self.b += struct.pack("<I", len(node.items))
            for item in node.items:
                self.b += struct.pack("<" + node.fmt, item)
            return at
        if isinstance(node, TableVec):
            self.pad(4)
            at = len(self.b)
            self.b += struct.pack("<I", len(node.tables))
            slots = []
            for _ in node.tables:
                slots.append(len(self.b))
                self.b += b"\0\0\0\0"
            for slot, table in zip(slots, node.tables):
                struct.pack_into("<I", self.b, slot, self.write(table) - slot)
            return at
        # Table: inline layout first (each field aligned to its size relative to an 8-aligned start).
        layout, offset = [], 4
        for fid, fmt, value in node.fields:
            size = 4 if fmt == "off" else struct.calcsize("<" + fmt)
            offset = (offset + size - 1) // size * size
            layout.append((fid, fmt, value, offset))
            offset += size
        object_size = (offset + 3) // 4 * 4
        max_id = max([f[0] for f in node.fields], default=-1)
        slots = [0] * (max_id + 1)
        for fid, _, _, off in layout:
            slots[fid] = off
        self.pad(2)
        vtable = len(self.b)
        self.b += struct.pack("<HH", 4 + 2 * len(slots), object_size) + b"".join(struct.pack("<H", s) for s in slots)
        self.pad(8)
        at = len(self.b)
        self.b += struct.pack("<i", at - vtable) + bytes(object_size - 4)
        children = []
        for fid, fmt, value, off in layout:
            if fmt == "off":
                children.append((at + off, value))
            else:
                struct.pack_into("<" + fmt, self.b, at + off, value)
        for slot, child in children:
            struct.pack_into("<I", self.b, slot, self.write(child) - slot)
        return at

    def finish(self, root):
        struct.pack_into("<I", self.b, 0, self.write(root))
        return bytes(self.b)


def half_bits(x):
    return struct.unpack("<H", struct.pack("<e", x))[0]


def raw_bytes(fmt, items):
    """A Buffer's `data: [ubyte] (force_align: 16)` holding `items` packed little-endian."""
    return Vec("B", list(struct.pack("<%d%s" % (len(items), fmt), *items)), align=16)


def tensor(name, shape, ttype, buffer, sparsity=None):
    fields = [(0, "off", Vec("i", shape)), (1, "b", ttype), (2, "I", buffer), (3, "off", Str(name))]
    if sparsity:
        fields.append((6, "off", sparsity))
    return Table(*fields)


def op(opcode, inputs, outputs, options_type=0, options=None):
    fields = [(0, "I", opcode), (1, "off", Vec("i", inputs)), (2, "off", Vec("i", outputs))]
    if options_type:
        fields += [(3, "B", options_type), (4, "off", options)]
    return Table(*fields)


def build():
    FLOAT32, FLOAT16, INT32 = 0, 1, 2
    # Filter OHWI [4,1,1,4], dim 3 split into 2 blocks of 2 (block_map [3]); level 3 (block column) is CSR.
    # Row o keeps these block columns:
    kept = {0: [0], 1: [1], 2: [], 3: [0, 1]}
    segments, indices, values = [0], [], []
    for o in range(4):
        for block in kept[o]:
            indices.append(block)
            values += [half_bits(0.25 * (o + 1) + 0.5 * block), half_bits(-1.5 + o - block)]
        segments.append(len(indices))
    dense, csr = 0, 1
    def dim_dense(n):
        return Table((0, "b", dense), (1, "i", n))
    sparsity = Table(
        (0, "off", Vec("i", [0, 1, 2, 3, 4])),
        (1, "off", Vec("i", [3])),
        (2, "off", TableVec([
            dim_dense(4), dim_dense(1), dim_dense(1),
            Table((0, "b", csr), (2, "B", 3), (3, "off", Table((0, "off", Vec("B", segments)))),
                  (4, "B", 2), (5, "off", Table((0, "off", Vec("H", indices))))),
            dim_dense(2)])))
    buffers = TableVec([
        Table(),
        Table((0, "off", raw_bytes("H", values))),
        Table((0, "off", raw_bytes("f", [0.5, -0.25, 0.0, 1.0]))),
        Table((0, "off", raw_bytes("i", [0, 0, 1, 1, 1, 1, 0, 0]))),
    ])
    tensors = TableVec([
        tensor("input", [1, 4, 4, 4], FLOAT32, 0),
        tensor("sparse_filter", [4, 1, 1, 4], FLOAT16, 1, sparsity),
        tensor("dense_filter_f16", [4, 1, 1, 4], FLOAT16, 0),
        tensor("filter", [4, 1, 1, 4], FLOAT32, 0),
        tensor("bias", [4], FLOAT32, 2),
        tensor("paddings", [4, 2], INT32, 3),
        tensor("padded", [1, 6, 6, 4], FLOAT32, 0),
        tensor("conv", [1, 6, 6, 4], FLOAT32, 0),
        tensor("output", [1, 3, 3, 4], FLOAT32, 0),
    ])
    conv_options = Table((0, "b", 1), (1, "i", 1), (2, "i", 1), (3, "b", 3), (4, "i", 1), (5, "i", 1))
    pool_options = Table((0, "b", 1), (1, "i", 2), (2, "i", 2), (3, "i", 2), (4, "i", 2), (5, "b", 0))
    operators = TableVec([
        op(0, [1], [2], 99, Table()),                 # DENSIFY, DensifyOptions
        op(1, [2], [3], 38, Table()),                 # DEQUANTIZE, DequantizeOptions
        op(2, [0, 5], [6], 22, Table()),              # PAD, PadOptions
        op(3, [6, 3, 4], [7], 1, conv_options),       # CONV_2D 1x1, RELU6
        op(4, [7], [8], 5, pool_options),             # MAX_POOL_2D 2x2 stride 2
    ])
    def opcode(code):
        return Table((0, "b", min(code, 127)), (2, "i", 1), (3, "i", code))
    model = Table(
        (0, "I", 3),
        (1, "off", TableVec([opcode(124), opcode(6), opcode(34), opcode(3), opcode(17)])),
        (2, "off", TableVec([Table((0, "off", tensors), (1, "off", Vec("i", [0])), (2, "off", Vec("i", [8])),
                                   (3, "off", operators), (4, "off", Str("main")))])),
        (3, "off", Str("hand-written seed model")),
        (4, "off", buffers))
    return Writer().finish(model)


if __name__ == "__main__":
    data = build()
    with open(sys.argv[1], "wb") as f:
        f.write(data)
    print(f"wrote {len(data)} bytes to {sys.argv[1]}")
