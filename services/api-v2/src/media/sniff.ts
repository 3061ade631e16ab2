/** The media types advertisers may upload, and how each one's first bytes look. */
export const UPLOAD_CONTENT_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'video/mp4'] as const;
export type UploadContentType = (typeof UPLOAD_CONTENT_TYPES)[number];

export const isUploadContentType = (value: string): value is UploadContentType =>
  (UPLOAD_CONTENT_TYPES as readonly string[]).includes(value);

/** Bytes of the file's head that `sniffContentType` needs. */
export const SNIFF_BYTES = 16;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** ISO-BMFF brands of still images (HEIF/AVIF): an `ftyp` box, but not a video. */
const IMAGE_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

/**
 * What the bytes really are, from their magic numbers; null if none of the accepted types.
 * The declared type is never trusted on its own: displays decode what they are sent.
 */
export function sniffContentType(head: Uint8Array): UploadContentType | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG)) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp' && !IMAGE_BRANDS.has(b.toString('latin1', 8, 12))) return 'video/mp4';
  return null;
}
