#!/usr/bin/env python3
"""Counts what a dashboard screenshot drew inside each chart's plot area.

    dashboard_pixels.py SCREENSHOT.png DATA.json

DATA.json is what the dashboard page wrote into <script id="wharf-data">: its "charts" list gives
each chart's id, plot box on the page in CSS pixels ([x, y, width, height]) and series colours, and
"viewport" the page's width in CSS pixels (the screenshot may be larger by the device pixel ratio).

Prints one JSON object: per chart, the plot area in screenshot pixels, how many pixels in it are
close to one of the chart's series colours ("series_pixels", the drawn lines), and how many are
not near-white at all ("ink_pixels": lines, grid, labels). Only the standard library: the PNG is
decoded here (8-bit greyscale, RGB, palette, grey+alpha or RGBA; not interlaced).
"""

import json
import struct
import sys
import zlib


def read_png(path, last_row):
    """Rows 0..last_row of the image as lists of (r, g, b) tuples, and the image's size."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    position, compressed, palette = 8, [], None
    width = height = depth = colour = interlace = None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        chunk = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"PLTE":
            palette = [tuple(chunk[i:i + 3]) for i in range(0, len(chunk), 3)]
        elif kind == b"IDAT":
            compressed.append(chunk)
        elif kind == b"IEND":
            break
    if depth != 8 or interlace != 0 or colour not in (0, 2, 3, 4, 6):
        raise ValueError(f"unsupported PNG: bit depth {depth}, colour type {colour}, interlace {interlace}")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    stride = width * channels
    raw = zlib.decompressobj().decompress(b"".join(compressed), (stride + 1) * min(height, last_row + 1))
    rows, previous = [], bytearray(stride)
    for index in range(min(height, last_row + 1)):
        start = index * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        unfilter(kind, line, previous, channels)
        rows.append(pixels(line, colour, channels, palette))
        previous = line
    return rows, width, height


def unfilter(kind, line, previous, step):
    """Undoes one row's PNG filter in place."""
    count = len(line)
    if kind == 0:
        return
    if kind == 1:
        for i in range(step, count):
            line[i] = (line[i] + line[i - step]) & 0xFF
    elif kind == 2:
        for i in range(count):
            line[i] = (line[i] + previous[i]) & 0xFF
    elif kind == 3:
        for i in range(count):
            left = line[i - step] if i >= step else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(count):
            if i >= step:
                a, c = line[i - step], previous[i - step]
            else:
                a = c = 0
            b = previous[i]
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + predictor) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter {kind}")


def pixels(line, colour, channels, palette):
    if colour == 2:
        return list(zip(line[0::3], line[1::3], line[2::3]))
    if colour == 6:
        return list(zip(line[0::4], line[1::4], line[2::4]))
    if colour == 3:
        return [palette[i] for i in line]
    grey = line[0::channels]
    return list(zip(grey, grey, grey))


def hex_colour(text):
    text = text.lstrip("#")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def main():
    screenshot, data_path = sys.argv[1], sys.argv[2]
    with open(data_path, encoding="utf-8") as handle:
        data = json.load(handle)
    charts = [chart for chart in data.get("charts", []) if chart.get("box")]
    viewport = data.get("viewport", {}).get("width") or 0
    with open(screenshot, "rb") as handle:
        handle.seek(16)
        image_width = struct.unpack(">I", handle.read(4))[0]
    scale = image_width / viewport if viewport else 1.0
    margin = 2
    boxes = []
    for chart in charts:
        x, y, w, h = chart["box"]
        boxes.append((
            int(x * scale) - margin, int(y * scale) - margin,
            int((x + w) * scale) + margin, int((y + h) * scale) + margin,
        ))
    last_row = max((box[3] for box in boxes), default=0)
    rows, width, height = read_png(screenshot, last_row)
    result = {"width": width, "height": height, "scale": scale, "charts": []}
    for chart, (left, top, right, bottom) in zip(charts, boxes):
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, width), min(bottom, len(rows))
        colours = [hex_colour(colour) for colour in chart.get("colors", [])]
        area = max(0, right - left) * max(0, bottom - top)
        series = ink = 0
        for row in rows[top:bottom]:
            for r, g, b in row[left:right]:
                if r < 245 or g < 245 or b < 245:
                    ink += 1
                    for cr, cg, cb in colours:
                        if abs(r - cr) + abs(g - cg) + abs(b - cb) <= 90:
                            series += 1
                            break
        result["charts"].append({
            "id": chart["id"], "box": [left, top, right - left, bottom - top], "area": area,
            "series_pixels": series, "ink_pixels": ink,
            "series_fraction": series / area if area else 0.0,
        })
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
