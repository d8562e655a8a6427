/**
 * A name-based UUID (RFC 9562 version 8 layout over SHA-256) of the given parts: the same names
 * give the same id, so outputs that need ids (bundle fullUrls, batch resources, CDS cards) stay
 * byte-identical for the same input, and the layout says the id is derived, not random.
 */
import { createHash } from 'node:crypto';

export function nameBasedUuid(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\u0000');
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8 (custom, hash-based)
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
