/**
 * An asynchronous path to the same verdicts: where step 5 of the signature rule (docs/protocol.md section 1, see
 * keys.ts) is only available asynchronously, as WebCrypto's Ed25519 in a browser, a block's signatures are checked
 * ahead, all at once, and the synchronous validation then reads their answers. Validation itself stays one
 * synchronous fold with one rule:
 *
 *   1. a dry run of the validation (which changes nothing) records the key, message and signature of every step 5
 *      it asks for, answering "valid" so that the fold reaches them all;
 *   2. the recorded ones are checked with the asynchronous implementation, in parallel;
 *   3. the real validation runs with step 5 answered from those results, and by the installed synchronous
 *      implementation for anything not recorded (or that the asynchronous one could not answer).
 *
 * Steps 1-4 (byte checks) run in `verify` as always, so the asynchronous implementation only ever sees inputs that
 * passed them, exactly like a synchronous one. Pure: no Node API (WebCrypto is a web standard).
 */
import { fromHex, toHex } from '../codec/bytes.js';
import { currentSignatureVerifier, setSignatureVerifier } from './keys.js';

/** Step 5 of the rule, answered later. A rejection means "cannot tell": the synchronous path decides. */
export type AsyncSignatureVerifier = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => Promise<boolean>;

const keyOf = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): string =>
  `${toHex(sig)}${toHex(pk)}${toHex(msg)}`;

/** Step 5 answers computed ahead for one judgement. */
export class SignatureMemo {
  private readonly known = new Map<string, boolean>();

  /**
   * Runs `dryRun`, which must change no state, to learn the signatures it checks, and checks them with `verify`.
   * Whatever the dry run throws or decides is not this pass's business: the real run decides.
   */
  async prefetch(dryRun: () => void, verify: AsyncSignatureVerifier): Promise<number> {
    const wanted: [Uint8Array, Uint8Array, Uint8Array][] = [];
    const installed = currentSignatureVerifier();
    setSignatureVerifier((pk, msg, sig) => {
      wanted.push([pk, msg, sig]);
      return true;
    });
    try {
      dryRun();
    } catch {
      // e.g. a block that does not decode: the real run names the error.
    } finally {
      setSignatureVerifier(installed);
    }
    await Promise.all(
      wanted.map(async ([pk, msg, sig]) => {
        const k = keyOf(pk, msg, sig);
        if (this.known.has(k)) return;
        try {
          this.known.set(k, await verify(pk, msg, sig));
        } catch {
          // Not known here: the synchronous implementation answers in the real run.
        }
      }),
    );
    return wanted.length;
  }

  /** Runs `judge` with step 5 answered from what was prefetched, by the installed implementation otherwise. */
  run<T>(judge: () => T): T {
    const installed = currentSignatureVerifier();
    setSignatureVerifier((pk, msg, sig) => this.known.get(keyOf(pk, msg, sig)) ?? installed(pk, msg, sig));
    try {
      return judge();
    } finally {
      setSignatureVerifier(installed);
      this.known.clear();
    }
  }
}

/** RFC 8032 section 7.1, test 1: the empty message. A self-test that the implementation verifies Ed25519 at all. */
const RFC8032_PK = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIG =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/** The shape of WebCrypto this needs (`globalThis.crypto.subtle`), so the core names no DOM or Node types. */
interface Subtle {
  importKey(
    format: 'raw',
    key: Uint8Array,
    alg: { name: 'Ed25519' },
    extractable: boolean,
    usages: ['verify'],
  ): Promise<unknown>;
  verify(alg: { name: 'Ed25519' }, key: unknown, signature: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/**
 * WebCrypto's Ed25519 as step 5, or null where the platform has none (or it fails the RFC 8032 self-test). Whether
 * it applies the same equation as the rule on every input that passes steps 1-4 is what the edge-case corpus
 * shows, in the browser that runs it (test/web/page.test.ts); keys are imported once per public key.
 */
export async function webCryptoVerifier(): Promise<AsyncSignatureVerifier | null> {
  const subtle = (globalThis as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
  if (!subtle) return null;
  const keys = new Map<string, Promise<unknown>>();
  const keyFor = (pk: Uint8Array): Promise<unknown> => {
    const k = toHex(pk);
    let p = keys.get(k);
    if (!p) {
      p = subtle.importKey('raw', pk, { name: 'Ed25519' }, false, ['verify']);
      // Operators' keys are few; a bound keeps a flood of owner keys from growing the cache without end.
      if (keys.size >= 4096) keys.clear();
      keys.set(k, p);
    }
    return p;
  };
  const verify: AsyncSignatureVerifier = async (pk, msg, sig) =>
    subtle.verify({ name: 'Ed25519' }, await keyFor(pk), sig, msg);
  try {
    if (!(await verify(fromHex(RFC8032_PK), new Uint8Array(0), fromHex(RFC8032_SIG)))) return null;
  } catch {
    return null;
  }
  return verify;
}
