/** The Anchor interface over HTTP, for operators of top-level chains talking to a devnet anchor. */
import { fromHex, toHex } from '../crypto/hash.js';
import { ApiError, apiRequest, type RequestOptions } from '../runtime/http-client.js';
import {
  evidenceRecordFromJson,
  registrationFromJson,
  type EvidenceRecordJson,
  type RegistrationJson,
} from './json.js';
import type { Anchor, CommitResult, EvidenceRecord, Registration, RegistrationRequest } from './types.js';

/** The fields read of the anchor chain operator's `GET /v1/chain` and `POST /v1/child-roots` answers. */
interface ChainJson {
  readonly chainId: string;
}

export class HttpAnchor implements Anchor {
  constructor(
    readonly url: string,
    private readonly opts: RequestOptions = {},
  ) {}

  async chainId(): Promise<Uint8Array> {
    const info = await apiRequest<ChainJson>(this.url, 'GET', '/v1/chain', undefined, this.opts);
    return fromHex(info.chainId, 'chainId');
  }

  async registerChain(req: RegistrationRequest): Promise<Registration> {
    const j = await apiRequest<RegistrationJson>(
      this.url,
      'POST',
      '/v1/anchor/register',
      { operatorKey: toHex(req.operatorKey), amount: req.amount.toString() },
      this.opts,
    );
    return registrationFromJson(j);
  }

  async commitRoot(signedHeader: Uint8Array): Promise<CommitResult> {
    const r = await apiRequest<CommitResult>(
      this.url,
      'POST',
      '/v1/child-roots',
      { childHeader: toHex(signedHeader) },
      this.opts,
    );
    return { status: r.status, height: r.height };
  }

  async beacon(height: number): Promise<Uint8Array | undefined> {
    try {
      const j = await apiRequest<{ beacon: string }>(
        this.url,
        'GET',
        `/v1/anchor/beacon/${height}`,
        undefined,
        this.opts,
      );
      return fromHex(j.beacon, 'beacon');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async recordEvidence(evidence: Uint8Array, genesisRecords: readonly Uint8Array[]): Promise<EvidenceRecord> {
    const j = await apiRequest<EvidenceRecordJson>(
      this.url,
      'POST',
      '/v1/anchor/evidence',
      { evidence: toHex(evidence), genesis: genesisRecords.map(toHex) },
      this.opts,
    );
    return evidenceRecordFromJson(j);
  }

  async slashed(): Promise<EvidenceRecord[]> {
    const j = await apiRequest<{ slashed: EvidenceRecordJson[] }>(
      this.url,
      'GET',
      '/v1/anchor/slashed',
      undefined,
      this.opts,
    );
    return j.slashed.map(evidenceRecordFromJson);
  }
}
