/**
 * The holder page in a real browser (Debian's chromium, driven by puppeteer-core): a node serves the page with
 * `--web` and listens on WebSockets; the page dials it, judges the chain in its worker, and keeps a watched
 * contract's proof current. Checks what a holder relies on: the page follows the chain, the watched proof stays
 * current (byte for byte the operator's proof) over 20 blocks, a transfer makes it superseded, a reload restores
 * the watches, and an equivocation of the operator is flagged. Skipped when no chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { corpus } from '../crypto/ed25519-corpus.js';
import type { CorpusRun, HexCase } from './corpus-entry.js';
import { checkSignatureEncoding } from '../../src/crypto/keys.js';
import { contractCommand } from '../../src/cli/contract.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/keys.js';
import { fromHex, toHex } from '../../src/codec/bytes.js';
import { decodeBlock } from '../../src/chain/block.js';
import { decodePathBytes } from '../../src/node/watches.js';
import { pathRoot } from '../../src/tree/verify.js';
import { writeKeyFile } from '../../src/runtime/keyfile.js';
import { waitFor } from '../helpers/net.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '..', '..', 'src', 'cli', 'main.js');
/** dist/test/web -> the TypeScript entry the corpus check bundles. */
const CORPUS_ENTRY = join(HERE, '..', '..', '..', 'test', 'web', 'corpus-entry.ts');
/** This test's loopback range. */
const HOST = '127.0.9.1';
/**
 * The operator signs two blocks at this height or, when nobody is in its mesh then, at the first height at which
 * the page is: right after the page joins, so the page then keeps following a chain it knows is faulty.
 */
const EQUIVOCATE_AT = 2;

function chromium(): string | null {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (c && spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0) return c;
  }
  return null;
}

interface Node {
  readonly api: string;
  readonly child: ChildProcess;
}

async function startAnchor(dataDir: string): Promise<Node> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'anchor',
      '--data-dir',
      dataDir,
      '--api-host',
      HOST,
      '--api-port',
      '0',
      '--listen',
      `/ip4/${HOST}/tcp/0`,
      `/ip4/${HOST}/tcp/0/ws`,
      `/ip4/${HOST}/udp/0/webrtc-direct`,
      '--web',
      '--block-interval-ms',
      '200',
      '--devnet',
      '--fault',
      `equivocate@${EQUIVOCATE_AT}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const api = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('anchor: no HTTP API within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`anchor exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { msg?: string; api?: string };
      if (o.msg === 'HTTP API listening') {
        clearTimeout(timer);
        resolve(o.api!);
      }
    });
  });
  return { api, child };
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  const body = (await r.json()) as T;
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

interface ContractAnswer {
  chainId: string;
  proof: { path: string; height: number } | null;
}

interface PageChain {
  chain: string;
  height: number;
  anchored: number;
  faulty: boolean;
}
interface PageWatch {
  start: string;
  status: string;
  height: number;
  path: string;
}

/** The few DOM members the checks read in the page (this test compiles without the DOM's types). */
interface Shown {
  readonly dataset: Record<string, string | undefined>;
}
interface Doc {
  querySelectorAll(selector: string): Iterable<Shown>;
  querySelector(selector: string): { value: string; textContent: string | null } | null;
}

/** What the page shows, read from its data attributes. */
async function shown(
  page: Page,
): Promise<{ chains: PageChain[]; watches: PageWatch[]; problems: string[]; state: string }> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: Doc }).document;
    return {
      chains: [...doc.querySelectorAll('.chain')].map((e) => ({
        chain: e.dataset.chain!,
        height: Number(e.dataset.height),
        anchored: Number(e.dataset.anchored),
        faulty: e.dataset.faulty === 'true',
      })),
      watches: [...doc.querySelectorAll('.watch')].map((e) => ({
        start: e.dataset.start!,
        status: e.dataset.status!,
        height: Number(e.dataset.height),
        path: e.dataset.path ?? '',
      })),
      problems: [...doc.querySelectorAll('.problem')].map((e) => e.dataset.kind!),
      state: doc.querySelector('#state')?.textContent ?? '',
    };
  });
}

const bin = chromium();

test(
  'the holder page follows a chain over WebSockets and keeps a watched proof',
  { skip: !bin && 'no chromium' },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sortition-web-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const node = await startAnchor(join(dir, 'anchor'));
    t.after(() => {
      node.child.kill('SIGTERM');
    });
    const browser: Browser = await puppeteer.launch({
      executablePath: bin!,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    t.after(() => browser.close());
    const token = (await readFile(join(dir, 'anchor', 'api-token'), 'utf8')).trim();
    const chain = await json<{ chainId: string; head: { height: number } }>(`${node.api}/v1/chain`);
    const head = async () => (await json<{ head: { height: number } }>(`${node.api}/v1/chain`)).head.height;
    const holder: KeyPair = generateKeyPair();
    const keyFile = join(dir, 'holder.json');
    await writeKeyFile(keyFile, holder);
    const sell = (start: bigint, end: bigint) =>
      json(`${node.api}/v1/contracts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ start: String(start), end: String(end), owner: toHex(holder.publicKey) }),
      });
    const receipt = async (start: bigint): Promise<ContractAnswer> => {
      let c: ContractAnswer | undefined;
      await waitFor(async () => {
        c = await json<ContractAnswer>(`${node.api}/v1/contracts/${start}`);
        return c.proof !== null;
      }, `a proof of the contract at ${start}`);
      return c!;
    };

    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    if (process.env.TEST_LOG_LEVEL) page.on('console', (m) => console.log('page:', m.text()));
    // Served by the node itself: the page finds the node's WebSockets address and chain from /v1/status.
    await page.goto(`${node.api}/`);
    await waitFor(
      async () =>
        (await shown(page)).chains.some((c) => c.chain === chain.chainId && c.height >= chain.head.height),
      'the page following the chain up to the head it had at the start',
    );
    assert.match(page.url(), new RegExp(`#chain=${chain.chainId}&peer=`));
    const flagged = async (p: Page) => {
      const s = await shown(p);
      return (
        s.problems.includes('equivocation') && s.chains.some((c) => c.chain === chain.chainId && c.faulty)
      );
    };
    // The worker judges with the browser's WebCrypto Ed25519, which gives the rule's verdict on the whole corpus.
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { document: Doc & { body: Shown } }).document.body.dataset.crypto,
      ),
      'webcrypto',
    );
    const bundle = await build({
      entryPoints: [CORPUS_ENTRY],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
    });
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    const cases: HexCase[] = corpus.map((c) => ({
      name: `${c.cls}/${c.name}`,
      pk: toHex(c.pk),
      msg: toHex(c.msg),
      sig: toHex(c.sig),
      expect: c.expect,
    }));
    const run = await page.evaluate(
      (cs) => (globalThis as unknown as { runCorpus(c: HexCase[]): Promise<CorpusRun> }).runCorpus(cs),
      cases,
    );
    assert.equal(run.webCrypto, true);
    assert.deepEqual(run.wrong, []);
    assert.equal(run.asked, corpus.filter((c) => checkSignatureEncoding(c.pk, c.sig) === 'ok').length);

    // The operator signs two blocks at one height: the page shows proof of cheating and the chain as faulty.
    await waitFor(() => flagged(page), 'the equivocation flagged');

    // A holder buys two contracts and pastes their receipts.
    await sell(1000n, 2000n);
    await sell(5000n, 6000n);
    for (const start of [1000n, 5000n]) {
      const r = await receipt(start);
      await page.$eval(
        '#receipt',
        (el, v) => ((el as unknown as { value: string }).value = v),
        JSON.stringify(r),
      );
      await page.click('#add button');
      await waitFor(
        async () =>
          (await shown(page)).watches.some((w) => w.start === String(start) && w.status === 'current'),
        `the watch of ${start} current`,
      );
    }

    // 20 more blocks: the proof stays current, and proves the contract against the operator's signed root there.
    const from = await head();
    for (let i = 0; i < 20; i++) await sell(10_000n + BigInt(i) * 100n, 10_050n + BigInt(i) * 100n);
    await waitFor(async () => (await head()) >= from + 20, '20 more blocks');
    let mine: PageWatch | undefined;
    await waitFor(async () => {
      const s = await shown(page);
      mine = s.watches.find((w) => w.start === '1000');
      return mine !== undefined && mine.height >= from + 20;
    }, 'the watch brought 20 blocks forward');
    assert.equal(mine!.status, 'current');
    const at = await json<{ block: string }>(`${node.api}/v1/blocks/${mine!.height}`);
    const root = decodeBlock(fromHex(at.block)).signed.header.stateRoot;
    const path = decodePathBytes(fromHex(mine!.path));
    assert.deepEqual(pathRoot(path).digest, root);
    assert.equal(path.leaf?.contract.start, 1000n);

    // The holder gives the first contract away: the page marks its proof superseded.
    const out: string[] = [];
    await contractCommand((s) => out.push(s)).parseAsync(
      ['transfer', '1000', '--to', toHex(generateKeyPair().publicKey), '--key', keyFile, '--api', node.api],
      { from: 'user' },
    );
    await waitFor(
      async () => (await shown(page)).watches.some((w) => w.start === '1000' && w.status === 'superseded'),
      'the transferred contract superseded',
    );

    // A reload restores both watches from IndexedDB: the ended one as it ended, the other current at the head.
    await page.reload();
    await waitFor(async () => {
      const s = await shown(page);
      const h = s.chains.find((c) => c.chain === chain.chainId)?.height ?? 0;
      return (
        s.watches.some((w) => w.start === '1000' && w.status === 'superseded') &&
        s.watches.some((w) => w.start === '5000' && w.status === 'current' && w.height === h && h > 0)
      );
    }, 'both watches restored after a reload');
    // The proof of cheating too: the page gossiped it, and asks the node for what it holds against the chain.
    await waitFor(() => flagged(page), 'the equivocation flagged again after the reload');

    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    assert.deepEqual(errors, []);
  },
);
