import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { solidPng } from '../../display-sim/png.ts';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from '../font.ts';
import { posterPng, wrap } from '../poster.ts';

/** Decodes the PNGs encodePng writes (8-bit RGB, filter 0), checking signature and every chunk's CRC. */
function decode(png: Buffer): { width: number; height: number; at(x: number, y: number): number[] } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    expect(png.readUInt32BE(offset + 8 + length), `${type} CRC`).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)) >>> 0);
    types.push(type);
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      expect([data[8], data[9], data[10], data[11], data[12]]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (1 + width * 3));
  for (let y = 0; y < height; y++) expect(raw[y * (1 + width * 3)], `row ${y} filter`).toBe(0);
  return { width, height, at: (x, y) => [...raw.subarray(y * (1 + width * 3) + 1 + x * 3, y * (1 + width * 3) + 4 + x * 3)] };
}

const background: [number, number, number] = [10, 20, 30];
const ink: [number, number, number] = [250, 240, 230];

describe('wrap', () => {
  it('breaks between words, cuts a word longer than a line, and drops extra spaces', () => {
    expect(wrap('Spring  sale today', 11)).toEqual(['Spring sale', 'today']);
    expect(wrap('Supercalifragilistic', 8)).toEqual(['Supercal', 'ifragili', 'stic']);
    expect(wrap('a b c', 1)).toEqual(['a', 'b', 'c']);
  });
});

describe('posterPng', () => {
  it('draws the name in the font, large and centred, on the background', () => {
    const img = decode(posterPng('Hm', { width: 320, height: 180, background, ink }));
    expect([img.width, img.height]).toEqual([320, 180]);
    // The band across the top is ink; find the name below it: the bounding box of ink under the band.
    const isInk = (x: number, y: number) => img.at(x, y).join() === ink.join();
    let bandEnd = [...Array(img.height).keys()].find((y) => isInk(Math.floor(img.width / 2), y))!;
    while (isInk(Math.floor(img.width / 2), bandEnd + 1)) bandEnd++;
    let [minX, minY, maxX, maxY] = [img.width, img.height, -1, -1];
    let otherColours = 0; // counted, not asserted per pixel: 57 600 expects are slow on a busy machine
    for (let y = bandEnd + 1; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        if (!isInk(x, y)) {
          if (img.at(x, y).join() !== background.join()) otherColours++;
          continue;
        }
        [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
      }
    }
    expect(otherColours, 'pixels neither ink nor background').toBe(0);
    // Two glyphs and one column of spacing between them.
    const scale = (maxY - minY + 1) / GLYPH_HEIGHT;
    expect(Number.isInteger(scale) && scale > 1).toBe(true);
    expect(maxX - minX + 1).toBe((2 * GLYPH_WIDTH + 1) * scale);
    // Centred (to a pixel).
    expect(Math.abs(minX - (img.width - 1 - maxX))).toBeLessThanOrEqual(1);
    // Every font pixel of 'H' and 'M' (both use all five columns) is where the font says, at that scale.
    ['H', 'M'].forEach((ch, i) =>
      glyph(ch).forEach((row, gy) =>
        row.forEach((on, gx) => {
          const x = minX + (i * (GLYPH_WIDTH + 1) + gx) * scale + Math.floor(scale / 2);
          const y = minY + gy * scale + Math.floor(scale / 2);
          expect(isInk(x, y), `${ch} (${gx},${gy})`).toBe(on);
        }),
      ),
    );
  });

  it('is deterministic (one name, one media hash) and differs between names', () => {
    const opts = { width: 160, height: 90, background, ink, caption: 'Marquee demo' };
    expect(posterPng('Fresh coffee', opts).equals(posterPng('Fresh coffee', opts))).toBe(true);
    expect(posterPng('Fresh coffee', opts).equals(posterPng('City marathon', opts))).toBe(false);
  });

  it('wraps a long name onto several lines rather than overflowing', () => {
    const img = decode(posterPng('A name far too long for one line', { width: 200, height: 200, background, ink }));
    const inkRows = [...Array(img.height).keys()].filter((y) => [...Array(img.width).keys()].some((x) => img.at(x, y).join() === ink.join()));
    // Ink never touches the left or right edge: every line fitted.
    const edgeInk = [...Array(img.height).keys()].filter((y) => img.at(0, y).join() !== background.join() || img.at(img.width - 1, y).join() !== background.join());
    expect(edgeInk).toEqual([]);
    expect(inkRows.length).toBeGreaterThan(0);
  });

  it('draws characters it lacks as "?" and lower case as capitals', () => {
    expect(glyph('é')).toEqual(glyph('?'));
    expect(glyph('a')).toEqual(glyph('A'));
  });
});

describe('solidPng', () => {
  it('is one colour everywhere', () => {
    const img = decode(solidPng(7, 3, [1, 2, 3]));
    for (let y = 0; y < 3; y++) for (let x = 0; x < 7; x++) expect(img.at(x, y)).toEqual([1, 2, 3]);
  });
});
