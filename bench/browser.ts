/**
 * `npm run bench -- browser`: blocks judged per second by the light validator in Chromium (the holder page's path:
 * WebCrypto's Ed25519 through src/crypto/async.ts, or pure JS) against Node (pure JS, WebCrypto, and libsodium as
 * node processes judge). One chain, every block with creates and owner-signed transfers; one tracker per run, the
 * best of three runs. Chromium is Debian's `chromium`, driven by puppeteer-core; without it only Node is measured.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { ChainProducer } from '../src/chain/producer.js';
import { signAction } from '../src/chain/tx.js';
import { toHex } from '../src/codec/bytes.js';
import { generateKeyPair } from '../src/crypto/keys.js';
import { installNativeCrypto } from '../src/runtime/native-crypto.js';
import { judgeAll, type JudgeRun } from './browser-entry.js';
import { benchGenesis, heading, table } from './util.js';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'browser-entry.ts');

/** `blocks` blocks of `perBlock` creates and as many transfers of the previous block's contracts. */
function chain(blocks: number, perBlock: number): { genesis: string; blocks: string[]; txs: number } {
  const key = generateKeyPair();
  const owner = generateKeyPair();
  const genesis = benchGenesis(key.publicKey, 1n << 62n, 'browser-bench');
  const p = new ChainProducer(genesis, key.secretKey);
  const out: string[] = [];
  let txs = 0;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < perBlock; i++) {
      const start = BigInt(b * perBlock + i) * 1000n;
      p.create({ start, end: start + 500n, owner: owner.publicKey });
      if (b > 0) {
        const prev = BigInt((b - 1) * perBlock + i) * 1000n;
        const leaf = p.tree.get(prev)!;
        const op = {
          kind: 'transfer',
          newOwner: generateKeyPair().publicKey,
          terms: new Uint8Array(0),
        } as const;
        p.owner(
          signAction(
            { chainId: genesis.chainId, contractHash: leaf.digest, nonce: leaf.contract.nonce + 1, op },
            owner.secretKey,
          ),
          prev,
        );
        txs++;
      }
      txs++;
    }
    out.push(toHex(p.seal(1000 + b).block.bytes));
  }
  return { genesis: toHex(genesis.bytes), blocks: out, txs };
}

async function best(run: () => Promise<JudgeRun>, n = 3): Promise<JudgeRun> {
  let b: JudgeRun | null = null;
  for (let i = 0; i < n; i++) {
    const r = await run();
    if (!b || r.ms < b.ms) b = r;
  }
  return b!;
}

function chromium(): string | null {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (c && spawnSync(c, ['--version']).status === 0) return c;
  return null;
}

export async function benchBrowser(blocks = 40, perBlock = 16): Promise<void> {
  heading(
    `browser: blocks judged per second, ${blocks} blocks of ${perBlock} creates + ${perBlock} transfers`,
  );
  const c = chain(blocks, perBlock);
  const rows: Record<string, string | number>[] = [];
  const row = (where: string, crypto: string, r: JudgeRun) => {
    if (r.accepted !== blocks) throw new Error(`${where} ${crypto}: ${r.accepted} of ${blocks} accepted`);
    rows.push({
      where,
      'signatures by': crypto,
      'blocks/s': (blocks / r.ms) * 1000,
      'ms/block': r.ms / blocks,
    });
  };
  installNativeCrypto('pure');
  row('node', 'pure JS', await best(() => judgeAll(c.genesis, c.blocks, 'sync')));
  row('node', 'WebCrypto (async)', await best(() => judgeAll(c.genesis, c.blocks, 'webcrypto')));
  installNativeCrypto();
  row('node', 'libsodium', await best(() => judgeAll(c.genesis, c.blocks, 'sync')));
  installNativeCrypto('pure');
  const bin = chromium();
  if (!bin) console.log('no chromium: browser figures skipped');
  else {
    const bundle = await build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
    });
    // WebCrypto lives in secure contexts only: a page from http://127.0.0.1 is one, about:blank is not.
    const server = createServer((_req, res) => res.end('<!doctype html><title>bench</title>'));
    await new Promise<void>((r) => server.listen(0, '127.0.9.2', r));
    const browser = await puppeteer.launch({ executablePath: bin, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.9.2:${(server.address() as AddressInfo).port}/`);
      await page.addScriptTag({ content: bundle.outputFiles[0].text });
      const inPage = (mode: 'sync' | 'webcrypto') =>
        best(() =>
          page.evaluate(
            (g, bs, m) =>
              (globalThis as unknown as { judgeAll: typeof judgeAll }).judgeAll(
                g,
                bs,
                m as 'sync' | 'webcrypto',
              ),
            c.genesis,
            c.blocks,
            mode,
          ),
        );
      row(`chromium ${(await browser.version()).split('/')[1]}`, 'pure JS', await inPage('sync'));
      row(`chromium`, 'WebCrypto (async)', await inPage('webcrypto'));
    } finally {
      await browser.close();
      server.close();
    }
  }
  table(rows);
}
