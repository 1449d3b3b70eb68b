/**
 * The devnet anchor: an operator of the anchor chain (genesis with an empty parent, space [0, 2^64 - 1)) that
 * stands in for the seeds' main chain.
 *
 * - Registration sells the next free interval of width `amount` to the registering key (a create transaction,
 *   durable before the answer, with the registration record written in the same fsync). The chain operator then
 *   builds its genesis in that interval and opens it with a signed open-child action, like any child chain.
 * - Root commits of top-level chains arrive as child-root requests, as in every parent chain.
 * - The beacon is the core's: block h carries `beaconSig = sign(H(beacon-sig, beacon_{h-1}))`, and
 *   `beacon_h = H(beacon, beaconSig)`; the anchor seals a block every interval, so the beacon advances.
 * - Evidence is verified with `verifyEvidence` and slashes the registration the accused chain descends from.
 *   Nested chains have no deposit of their own: the top-level operator that commits their roots answers for them.
 *   Slashings are records in the anchor's store (a main chain would make them transactions).
 */
import { bytesEqual } from '../codec/canonical.js';
import { DecodeError } from '../codec/errors.js';
import { toHex } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';
import { decodeBlock } from '../chain/block.js';
import { EvidenceError, provesOperatorFault, verifyEvidence } from '../chain/evidence.js';
import { decodeGenesis, isAnchor, type GenesisRecord } from '../chain/genesis.js';
import { decodeSignedHeader, type SignedHeader } from '../chain/header.js';
import { beaconOf } from '../chain/state.js';
import type { Logger } from '../runtime/logger.js';
import {
  decodeJson,
  encodeJson,
  evidenceRecordFromJson,
  evidenceRecordToJson,
  registrationFromJson,
  registrationToJson,
  type EvidenceRecordJson,
  type RegistrationJson,
} from './json.js';
import {
  AnchorError,
  type Anchor,
  type CommitResult,
  type EvidenceRecord,
  type Registration,
  type RegistrationRequest,
} from './types.js';

/** A record of the operator's store beside its chain data (the anchor keeps registrations and evidence there). */
export interface AuxRecord {
  readonly key: string;
  readonly value: Uint8Array;
}

/**
 * The anchor chain's operator, as far as the devnet anchor uses it: it sells intervals (with the registration
 * written in the same durable request), commits child roots, serves blocks and keeps the anchor's records.
 * `OperatorService` is one; the app layer hands it in, so the anchor never imports the operator.
 */
export interface AnchorChainOperator {
  readonly genesis: GenesisRecord;
  readonly chainId: Uint8Array;
  readonly head: { readonly height: number };
  readonly store: {
    getAux(key: string): Promise<Uint8Array | undefined>;
    auxEntries(prefix: string): AsyncIterable<AuxRecord>;
    putAuxMany(writes: readonly AuxRecord[]): Promise<void>;
  };
  /** Smallest start and largest end allocated in the current state, pending sales included. */
  currentBounds(): { min: bigint; max: bigint; empty: boolean };
  create(
    c: { start: bigint; end: bigint; owner: Uint8Array },
    opts: { aux: readonly AuxRecord[] },
  ): Promise<unknown>;
  childRoot(header: SignedHeader): Promise<CommitResult>;
  block(height: number): Promise<Uint8Array | undefined>;
  child(chainId: Uint8Array): { readonly genesis: GenesisRecord } | undefined;
}

const pad16 = (n: bigint) => n.toString(16).padStart(16, '0');
const MAX_DEPTH = 64;

export class DevnetAnchor implements Anchor {
  /** Serialises evidence recording, so a registration is slashed at most once. */
  private evidenceLock: Promise<unknown> = Promise.resolve();

  /**
   * `registrarOnly`: a devnet operator of any chain selling space by registration (how nested devnet chains
   * and load generators get contracts without the operator's token); only the anchor slashes and beacons.
   */
  constructor(
    readonly service: AnchorChainOperator,
    private readonly log: Logger,
    opts: { registrarOnly?: boolean } = {},
  ) {
    if (!opts.registrarOnly && !isAnchor(service.genesis.genesis)) {
      throw new Error('the devnet anchor runs an anchor chain');
    }
  }

  async chainId(): Promise<Uint8Array> {
    return this.service.chainId;
  }

  async registerChain(req: RegistrationRequest): Promise<Registration> {
    if (req.operatorKey.length !== PUBLIC_KEY_BYTES)
      throw new AnchorError('BAD_REQUEST', 'operatorKey must be 32 bytes');
    if (req.amount <= 0n) throw new AnchorError('BAD_REQUEST', 'amount must be positive');
    const g = this.service.genesis.genesis;
    // Computed and sold in one synchronous step: concurrent registrations get consecutive intervals.
    const b = this.service.currentBounds();
    const start = b.empty || b.max < g.spaceStart ? g.spaceStart : b.max;
    const end = start + req.amount;
    if (end > g.spaceEnd)
      throw new AnchorError('OUT_OF_SPACE', `no free interval of width ${req.amount} is left`);
    const reg: Registration = {
      anchorChainId: this.service.chainId,
      start,
      end,
      operatorKey: req.operatorKey,
      amount: req.amount,
    };
    await this.service.create(
      { start, end, owner: req.operatorKey },
      { aux: [{ key: `reg/${pad16(start)}`, value: encodeJson(registrationToJson(reg)) }] },
    );
    this.log.debug({ start, end, operator: toHex(req.operatorKey) }, 'chain registered');
    return reg;
  }

  async registration(start: bigint): Promise<Registration | undefined> {
    const v = await this.service.store.getAux(`reg/${pad16(start)}`);
    return v ? registrationFromJson(decodeJson<RegistrationJson>(v)) : undefined;
  }

  async registrations(): Promise<Registration[]> {
    const out: Registration[] = [];
    for await (const e of this.service.store.auxEntries('reg/'))
      out.push(registrationFromJson(decodeJson<RegistrationJson>(e.value)));
    return out;
  }

  async commitRoot(signedHeader: Uint8Array): Promise<CommitResult> {
    const r = await this.service.childRoot(decodeSignedHeader(signedHeader));
    return { status: r.status, height: r.height };
  }

  async beacon(height: number): Promise<Uint8Array | undefined> {
    return (await this.beaconRecord(height))?.beacon;
  }

  /** The beacon at `height` with the signed header that carries its signature (null at height 0). */
  async beaconRecord(
    height: number,
  ): Promise<
    { beacon: Uint8Array; beaconSig: Uint8Array | null; signedHeader: Uint8Array | null } | undefined
  > {
    if (!Number.isSafeInteger(height) || height < 0) return undefined;
    if (height === 0) return { beacon: this.service.chainId, beaconSig: null, signedHeader: null };
    const bytes = await this.service.block(height);
    if (!bytes) return undefined;
    const sh = decodeBlock(bytes).signed;
    return { beacon: beaconOf(sh.header.beaconSig), beaconSig: sh.header.beaconSig, signedHeader: sh.bytes };
  }

  recordEvidence(evidence: Uint8Array, genesisRecords: readonly Uint8Array[]): Promise<EvidenceRecord> {
    const run = this.evidenceLock.then(() => this.record(evidence, genesisRecords));
    this.evidenceLock = run.catch(() => undefined);
    return run;
  }

  /** Whether the evidence with this id was recorded before. */
  async evidence(id: Uint8Array): Promise<EvidenceRecord | undefined> {
    const v = await this.service.store.getAux(`ev/${toHex(id)}`);
    return v ? evidenceRecordFromJson(decodeJson<EvidenceRecordJson>(v)) : undefined;
  }

  private async record(evidence: Uint8Array, genesisRecords: readonly Uint8Array[]): Promise<EvidenceRecord> {
    const provided = new Map<string, GenesisRecord>();
    for (const b of genesisRecords) {
      try {
        const g = decodeGenesis(b);
        provided.set(toHex(g.chainId), g);
      } catch (e) {
        if (e instanceof DecodeError)
          throw new EvidenceError('EVIDENCE_MALFORMED', `genesis record: ${e.message}`);
        throw e;
      }
    }
    const anchorId = this.service.chainId;
    const lookup = (id: Uint8Array): GenesisRecord | undefined =>
      provided.get(toHex(id)) ??
      (bytesEqual(id, anchorId) ? this.service.genesis : this.service.child(id)?.genesis);
    const v = verifyEvidence(evidence, lookup);
    const known = await this.evidence(v.id);
    if (known) return known;
    if (!provesOperatorFault(v.kind))
      throw new AnchorError('EVIDENCE_NOT_SLASHABLE', `${v.kind} evidence convicts no operator`);

    // Walk up to the top-level chain: its registration answers for everything below it.
    let g = lookup(v.chainId)!;
    if (isAnchor(g.genesis)) throw new AnchorError('NOT_REGISTERED', 'the anchor does not slash itself');
    for (let depth = 0; !bytesEqual(g.genesis.parentChain, anchorId); depth++) {
      if (isAnchor(g.genesis) || depth >= MAX_DEPTH)
        throw new AnchorError('NOT_REGISTERED', 'the accused chain does not descend from this anchor');
      const parent = lookup(g.genesis.parentChain);
      if (!parent) {
        throw new EvidenceError(
          'EVIDENCE_UNKNOWN_CHAIN',
          `no genesis record for chain ${toHex(g.genesis.parentChain)}, an ancestor of the accused chain`,
        );
      }
      g = parent;
    }
    const top = g.genesis;
    const reg = await this.registration(top.parentContract);
    if (
      !reg ||
      !bytesEqual(reg.operatorKey, top.operatorKey) ||
      reg.start !== top.spaceStart ||
      reg.end !== top.spaceEnd
    ) {
      throw new AnchorError(
        'NOT_REGISTERED',
        `chain ${toHex(g.chainId)} is not the chain registered at ${top.parentContract} on this anchor`,
      );
    }
    const slashKey = `slash/${pad16(reg.start)}`;
    const first = (await this.service.store.getAux(slashKey)) === undefined;
    const rec: EvidenceRecord = {
      id: v.id,
      kind: v.kind,
      chainId: v.chainId,
      height: v.height,
      registration: reg,
      slashed: first ? reg.amount : 0n,
      anchorHeight: this.service.head.height,
      timeMs: Date.now(),
    };
    const value = encodeJson(evidenceRecordToJson(rec));
    const writes = [{ key: `ev/${toHex(v.id)}`, value }];
    if (first) writes.push({ key: slashKey, value });
    await this.service.store.putAuxMany(writes);
    this.log.warn(
      { kind: v.kind, chain: toHex(v.chainId), height: v.height, slashed: rec.slashed.toString() },
      'evidence recorded',
    );
    return rec;
  }

  async slashed(): Promise<EvidenceRecord[]> {
    const out: EvidenceRecord[] = [];
    for await (const e of this.service.store.auxEntries('slash/'))
      out.push(evidenceRecordFromJson(decodeJson<EvidenceRecordJson>(e.value)));
    return out.sort((a, b) => a.timeMs - b.timeMs);
  }
}
