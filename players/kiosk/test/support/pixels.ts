/** Test images: solid-colour PNG creatives, and reading pixels back from screenshots. */
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';

export type Rgb = [number, number, number];

export function solidPng(rgb: Rgb, width = 64, height = 36): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([...rgb, 255], i * 4);
  return PNG.sync.write(png);
}

/** The colour at a fraction of the width/height of a PNG (default: the centre). */
export function pixelAt(png: Buffer, fx = 0.5, fy = 0.5): Rgb {
  const img = PNG.sync.read(png);
  const x = Math.min(img.width - 1, Math.floor(img.width * fx));
  const y = Math.min(img.height - 1, Math.floor(img.height * fy));
  const i = (y * img.width + x) * 4;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

/** Colours within `tolerance` per channel (video goes through YUV, so it is not exact). */
export function near(a: Rgb, b: Rgb, tolerance = 12): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
