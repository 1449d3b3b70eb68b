import Long from 'long';
import { bytesEqual } from './bytes.js';
import { DecodeError } from './errors.js';

/** The shape of a protobufjs static message class that this module needs. */
export interface MessageType<T> {
  decode(bytes: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
}

export { bytesEqual };

function hasUnknownFields(value: unknown, depth: number): boolean {
  if (depth > 16 || value === null || typeof value !== 'object') return false;
  if (value instanceof Uint8Array || Long.isLong(value)) return false;
  if (Array.isArray(value)) return value.some((v) => hasUnknownFields(v, depth + 1));
  if (Object.prototype.hasOwnProperty.call(value, '$unknowns')) return true;
  for (const v of Object.values(value)) if (hasUnknownFields(v, depth + 1)) return true;
  return false;
}

/**
 * Decodes bytes and insists they are the one canonical encoding of what they decode to (fields in order, each
 * once, defaults omitted, no unknown fields, nothing trailing). Everything hashed or signed in the protocol is
 * hashed over received bytes, so two encodings of one value would give one value two identities.
 */
export function decodeCanonical<T extends object>(
  type: MessageType<T>,
  bytes: Uint8Array,
  maxBytes: number,
  what: string,
): T {
  if (bytes.length > maxBytes) {
    throw new DecodeError(
      'DECODE_OVERSIZE',
      `${what}: ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  let message: T;
  try {
    message = type.decode(bytes);
  } catch (e) {
    throw new DecodeError('DECODE_MALFORMED', `${what}: ${(e as Error).message}`);
  }
  if (hasUnknownFields(message, 0)) {
    throw new DecodeError('DECODE_NONCANONICAL', `${what}: unknown field or wrong wire type`);
  }
  if (!bytesEqual(type.encode(message).finish(), bytes)) {
    throw new DecodeError(
      'DECODE_NONCANONICAL',
      `${what}: not the canonical encoding (field order, duplicate or default-valued fields, or trailing bytes)`,
    );
  }
  return message;
}

export function encode<T>(type: MessageType<T>, message: T): Uint8Array {
  return type.encode(message).finish();
}

/** The empty bytes value: shared, since nothing can be written into it. */
export const NO_BYTES: Uint8Array = new Uint8Array(0);

/** Decoded bytes fields are typed optional; an absent one is the empty default. */
export function bytesOf(v: Uint8Array | null | undefined): Uint8Array {
  return v ?? NO_BYTES;
}
