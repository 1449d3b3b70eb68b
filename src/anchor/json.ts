/** JSON forms of the anchor's records (bytes as hex, amounts and positions as decimal strings). */
import { fromHex, toHex } from '../crypto/hash.js';
import type { EvidenceKind } from '../chain/evidence.js';
import type { EvidenceRecord, Registration } from './types.js';

export interface RegistrationJson {
  readonly anchorChainId: string;
  readonly start: string;
  readonly end: string;
  readonly operatorKey: string;
  readonly amount: string;
}

export interface EvidenceRecordJson {
  readonly id: string;
  readonly kind: EvidenceKind;
  readonly chainId: string;
  readonly height: number;
  readonly registration: RegistrationJson;
  readonly slashed: string;
  readonly anchorHeight: number;
  readonly timeMs: number;
}

export function registrationToJson(r: Registration): RegistrationJson {
  return {
    anchorChainId: toHex(r.anchorChainId),
    start: r.start.toString(),
    end: r.end.toString(),
    operatorKey: toHex(r.operatorKey),
    amount: r.amount.toString(),
  };
}

export function registrationFromJson(j: RegistrationJson): Registration {
  return {
    anchorChainId: fromHex(j.anchorChainId, 'anchorChainId'),
    start: BigInt(j.start),
    end: BigInt(j.end),
    operatorKey: fromHex(j.operatorKey, 'operatorKey'),
    amount: BigInt(j.amount),
  };
}

export function evidenceRecordToJson(r: EvidenceRecord): EvidenceRecordJson {
  return {
    id: toHex(r.id),
    kind: r.kind,
    chainId: toHex(r.chainId),
    height: r.height,
    registration: registrationToJson(r.registration),
    slashed: r.slashed.toString(),
    anchorHeight: r.anchorHeight,
    timeMs: r.timeMs,
  };
}

export function evidenceRecordFromJson(j: EvidenceRecordJson): EvidenceRecord {
  return {
    id: fromHex(j.id, 'id'),
    kind: j.kind,
    chainId: fromHex(j.chainId, 'chainId'),
    height: j.height,
    registration: registrationFromJson(j.registration),
    slashed: BigInt(j.slashed),
    anchorHeight: j.anchorHeight,
    timeMs: j.timeMs,
  };
}

export const encodeJson = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
export const decodeJson = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;
