/**
 * Verdict bookkeeping shared by every family: an input is run under a clock, and whatever it throws is sorted into
 * the protocol's typed errors (a verdict) and anything else (a crash). Oracles then record accepted-invalid and
 * rejected-valid disagreements. Samples of each finding are kept (bounded) so a report can show what failed.
 */
import { DecodeError } from '../../src/codec/errors.js';
import { TreeError } from '../../src/tree/errors.js';
import { ChainError } from '../../src/chain/errors.js';
import { EvidenceError } from '../../src/chain/evidence.js';
import { ReqRespError } from '../../src/p2p/errors.js';

/** An input whose judgement takes longer than this is a hang (judgements are synchronous: measured, not cut). */
export const HANG_MS = 1000;
const SAMPLES = 5;

export type Finding = 'crash' | 'hang' | 'acceptedInvalid' | 'rejectedValid';

export interface KindStats {
  inputs: number;
  crashes: number;
  hangs: number;
  acceptedInvalid: number;
  rejectedValid: number;
  /** Inputs the judged code accepted (a campaign that accepts nothing tests little). */
  accepted: number;
  ms: number;
  samples: string[];
}

/** The protocol's typed failures: each carries an error code (the reqresp decode error is typed by its class). */
export function isTyped(e: unknown): boolean {
  return (
    e instanceof DecodeError ||
    e instanceof TreeError ||
    e instanceof ChainError ||
    e instanceof EvidenceError ||
    e instanceof ReqRespError
  );
}

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message.slice(0, 160)}`;
  }
  return String(e);
}

export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export class Tally {
  readonly kinds = new Map<string, KindStats>();

  stats(kind: string): KindStats {
    let s = this.kinds.get(kind);
    if (!s) {
      s = {
        inputs: 0,
        crashes: 0,
        hangs: 0,
        acceptedInvalid: 0,
        rejectedValid: 0,
        accepted: 0,
        ms: 0,
        samples: [],
      };
      this.kinds.set(kind, s);
    }
    return s;
  }

  note(kind: string, finding: Finding, detail: string): void {
    const s = this.stats(kind);
    if (finding === 'crash') s.crashes++;
    else if (finding === 'hang') s.hangs++;
    else if (finding === 'acceptedInvalid') s.acceptedInvalid++;
    else s.rejectedValid++;
    if (s.samples.length < SAMPLES) s.samples.push(`${finding}: ${detail}`);
  }

  /** Counts one input of a kind; `accepted` when the judged code accepted it. */
  input(kind: string, accepted = false): void {
    const s = this.stats(kind);
    s.inputs++;
    if (accepted) s.accepted++;
  }

  /**
   * Runs one judgement (an input may need several). A thrown typed error is a verdict (returned); any other throw
   * is a crash, recorded here, and comes back as a failed outcome too so the caller's oracle can still compare.
   */
  call<T>(kind: string, what: () => string, f: () => T): Outcome<T> & { crashed: boolean } {
    const s = this.stats(kind);
    const t0 = performance.now();
    let out: Outcome<T> & { crashed: boolean };
    try {
      out = { ok: true, value: f(), crashed: false };
    } catch (e) {
      const crashed = !isTyped(e);
      if (crashed) this.note(kind, 'crash', `${describe(e)} on ${what()}`);
      out = { ok: false, error: e, crashed };
    }
    const ms = performance.now() - t0;
    s.ms += ms;
    if (ms > HANG_MS) this.note(kind, 'hang', `${ms.toFixed(0)} ms on ${what()}`);
    return out;
  }

  total(): Omit<KindStats, 'samples'> {
    const t = { inputs: 0, crashes: 0, hangs: 0, acceptedInvalid: 0, rejectedValid: 0, accepted: 0, ms: 0 };
    for (const s of this.kinds.values()) {
      t.inputs += s.inputs;
      t.crashes += s.crashes;
      t.hangs += s.hangs;
      t.acceptedInvalid += s.acceptedInvalid;
      t.rejectedValid += s.rejectedValid;
      t.accepted += s.accepted;
      t.ms += s.ms;
    }
    return t;
  }
}
