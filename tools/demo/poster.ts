/**
 * The demo's creatives: a PNG with the creative's name drawn on it in large letters (so a
 * screenshot or the console's preview shows which creative is which), and a small caption.
 * Deterministic: the same name and colours give the same bytes, hence the same media hash.
 */
import { encodePng, type Rgb } from '../display-sim/png.ts';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './font.ts';

export interface PosterOptions {
  width: number;
  height: number;
  background: Rgb;
  ink: Rgb;
  /** Small text along the bottom edge. */
  caption?: string;
}

const CELL_W = GLYPH_WIDTH + 1;
const LINE_H = GLYPH_HEIGHT + 3;

/** Greedy word wrap at `maxChars` per line (a longer word is cut). */
export function wrap(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    for (let piece = word; piece; piece = piece.slice(maxChars)) {
      const part = piece.slice(0, maxChars);
      if (!line) line = part;
      else if (line.length + 1 + part.length <= maxChars) line += ` ${part}`;
      else {
        lines.push(line);
        line = part;
      }
    }
  }
  if (line) lines.push(line);
  return lines;
}

class Canvas {
  readonly pixels: Buffer;
  constructor(
    readonly width: number,
    readonly height: number,
    fill: Rgb,
  ) {
    this.pixels = Buffer.alloc(width * height * 3);
    this.rect(0, 0, width, height, fill);
  }

  rect(x0: number, y0: number, w: number, h: number, rgb: Rgb): void {
    for (let y = Math.max(0, y0); y < Math.min(this.height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(this.width, x0 + w); x++) this.pixels.set(rgb, (y * this.width + x) * 3);
    }
  }

  /** Draws one line of text with its top-left corner at (x, y), each font pixel `scale`² pixels. */
  text(line: string, x: number, y: number, scale: number, rgb: Rgb): void {
    [...line].forEach((ch, i) =>
      glyph(ch).forEach((row, gy) =>
        row.forEach((ink, gx) => {
          if (ink) this.rect(x + (i * CELL_W + gx) * scale, y + gy * scale, scale, scale, rgb);
        }),
      ),
    );
  }
}

/** The largest scale at which `text`, wrapped, fits the box; and its lines. */
function fit(text: string, boxW: number, boxH: number): { scale: number; lines: string[] } {
  for (let scale = Math.floor(boxH / LINE_H); scale > 1; scale--) {
    const lines = wrap(text, Math.max(1, Math.floor(boxW / (CELL_W * scale))));
    if (lines.length * LINE_H * scale <= boxH) return { scale, lines };
  }
  return { scale: 1, lines: wrap(text, Math.max(1, Math.floor(boxW / CELL_W))) };
}

export function posterPng(name: string, opts: PosterOptions): Buffer {
  const { width, height, background, ink } = opts;
  const canvas = new Canvas(width, height, background);
  const margin = Math.round(Math.min(width, height) / 12);
  const captionScale = Math.max(1, Math.round(height / 120));
  const captionH = opts.caption ? LINE_H * captionScale : 0;
  // A band framing the name.
  canvas.rect(margin, margin, width - 2 * margin, Math.max(2, captionScale), ink);
  const box = { x: margin, y: margin * 2, w: width - 2 * margin, h: height - margin * 3 - captionH };
  const { scale, lines } = fit(name, box.w, box.h);
  const blockH = lines.length * LINE_H * scale - 3 * scale;
  lines.forEach((line, i) => {
    const lineW = line.length * CELL_W * scale - scale;
    canvas.text(line, box.x + Math.floor((box.w - lineW) / 2), box.y + Math.floor((box.h - blockH) / 2) + i * LINE_H * scale, scale, ink);
  });
  if (opts.caption) canvas.text(opts.caption, margin, height - margin - GLYPH_HEIGHT * captionScale, captionScale, ink);
  return encodePng(width, height, canvas.pixels);
}
