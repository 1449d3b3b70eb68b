/**
 * Bundled by test/web/page.test.ts and run in Chromium: the edge-case corpus (built in Node, passed as hex)
 * through the asynchronous path with the browser's WebCrypto Ed25519, as the page's worker judges.
 */
import { fromHex } from '../../src/codec/bytes.js';
import { SignatureMemo, webCryptoVerifier, type AsyncSignatureVerifier } from '../../src/crypto/async.js';
import { setSignatureVerifier, verify } from '../../src/crypto/keys.js';

export interface HexCase {
  readonly name: string;
  readonly pk: string;
  readonly msg: string;
  readonly sig: string;
  readonly expect: boolean;
}

export interface CorpusRun {
  readonly webCrypto: boolean;
  readonly asked: number;
  readonly wrong: string[];
}

async function runCorpus(cases: readonly HexCase[]): Promise<CorpusRun> {
  const wc = await webCryptoVerifier();
  if (!wc) return { webCrypto: false, asked: 0, wrong: [] };
  let asked = 0;
  const counted: AsyncSignatureVerifier = (pk, m, s) => {
    asked++;
    return wc(pk, m, s);
  };
  const wrong: string[] = [];
  // Only WebCrypto may answer step 5: the synchronous implementation throws (read as invalid) if reached.
  setSignatureVerifier(() => {
    throw new Error('synchronous step 5 reached');
  });
  try {
    for (const c of cases) {
      const [pk, msg, sig] = [fromHex(c.pk), fromHex(c.msg), fromHex(c.sig)];
      const memo = new SignatureMemo();
      await memo.prefetch(() => void verify(pk, msg, sig), counted);
      if (memo.run(() => verify(pk, msg, sig)) !== c.expect) wrong.push(c.name);
    }
  } finally {
    setSignatureVerifier(null);
  }
  return { webCrypto: true, asked, wrong };
}

(globalThis as { runCorpus?: typeof runCorpus }).runCorpus = runCorpus;
