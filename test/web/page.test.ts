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
import { decodeGenesis } from '../../src/chain/genesis.js';
import { settlementBeacon, winningPoint } from '../../src/sortition/lottery.js';
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
 * The operator signs two blocks at this height (during the 20 sales) or, when nobody is in its mesh then,
 * at the first height at which the page is: the page then keeps following a chain it knows is faulty.
 */
const EQUIVOCATE_AT = 2;
/** The chain's width in the anchor's space. */
const SPACE = 1n << 40n;
/** The chain settles this many anchor blocks after the test starts (the anchor seals one about every 200 ms). */
const EXPIRY_AFTER = 100;

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

/** Starts `sortition-node <args>` on this test's address; resolves with its API URL once it listens. */
async function startNode(name: string, args: string[]): Promise<Node> {
  const child = spawn(
    process.execPath,
    [CLI, ...args, '--api-host', HOST, '--api-port', '0', '--block-interval-ms', '200'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const api = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no HTTP API within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${name} exited early with ${code}`)));
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
  point?: string;
  won?: boolean;
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
        point: e.dataset.point,
        won: e.dataset.won === undefined ? undefined : e.dataset.won === 'true',
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
    // The devnet anchor, and the operator of a top-level chain in it that settles some seconds in: the page
    // follows that chain and the anchor above it.
    const anchor = await startNode('anchor', [
      'anchor',
      '--data-dir',
      join(dir, 'anchor'),
      '--listen',
      `/ip4/${HOST}/tcp/0`,
    ]);
    t.after(() => {
      anchor.child.kill('SIGTERM');
    });
    const anchorStatus = await json<{ listen: string[] }>(`${anchor.api}/v1/status`);
    const anchorHead = async () =>
      (await json<{ head: { height: number } }>(`${anchor.api}/v1/chain`)).head.height;
    const expiry = (await anchorHead()) + EXPIRY_AFTER;
    const node = await startNode('operator', [
      'operator',
      '--data-dir',
      join(dir, 'operator'),
      '--parent-api',
      anchor.api,
      '--amount',
      String(SPACE),
      '--expiry',
      String(expiry),
      '--name',
      'lottery',
      '--bootstrap',
      anchorStatus.listen[0],
      '--listen',
      `/ip4/${HOST}/tcp/0`,
      `/ip4/${HOST}/tcp/0/ws`,
      `/ip4/${HOST}/udp/0/webrtc-direct`,
      '--web',
      '--devnet',
      '--fault',
      `equivocate@${EQUIVOCATE_AT}`,
    ]);
    t.after(() => {
      node.child.kill('SIGTERM');
    });
    const browser: Browser = await puppeteer.launch({
      executablePath: bin!,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    t.after(() => browser.close());
    const token = (await readFile(join(dir, 'operator', 'api-token'), 'utf8')).trim();
    const chain = await json<{ chainId: string; spaceStart: string; head: { height: number } | null }>(
      `${node.api}/v1/chain`,
    );
    const head = async () => (await json<{ head: { height: number } }>(`${node.api}/v1/chain`)).head.height;
    // The holder's contracts: A, transferred later, and B, most of the space, which will almost surely win.
    const S = BigInt(chain.spaceStart);
    const [A, B] = [S, S + 10_000n];
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
    const anchorAtStart = await anchorHead();
    // The page follows what its node knows: wait until the node follows the anchor (its chain's parent) up to there.
    await waitFor(async () => {
      const st = await json<{ chains: { chainId: string; height: number }[] }>(`${node.api}/v1/status`);
      return st.chains.some((c) => c.chainId !== chain.chainId && c.height >= anchorAtStart);
    }, "the node following its chain's anchor");
    // Served by the node itself: the page finds the node's WebSockets address and chain from /v1/status.
    await page.goto(`${node.api}/`);
    let seen: unknown = null;
    await waitFor(async () => {
      const v = await shown(page);
      seen = { ...v, errors };
      const cs = v.chains;
      return (
        cs.some((c) => c.chain === chain.chainId) &&
        cs.some((c) => c.chain !== chain.chainId && c.height >= anchorAtStart)
      );
    }, 'the page following the chain and the anchor up to the height it had at the start').catch(
      (e: unknown) => {
        throw new Error(
          `${(e as Error).message}; the page showed ${JSON.stringify(seen)} (anchor at ${anchorAtStart})`,
        );
      },
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

    // A holder buys two contracts and pastes their receipts.
    await sell(A, A + 1000n);
    await sell(B, S + SPACE);
    for (const start of [A, B]) {
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
    for (let i = 0; i < 20; i++) {
      // One sale a block: the operator seals what is pending every interval.
      const h = await head();
      await sell(S + 2000n + BigInt(i) * 100n, S + 2050n + BigInt(i) * 100n);
      await waitFor(async () => (await head()) > h, `block ${h + 1}`);
    }
    await waitFor(async () => (await head()) >= from + 20, '20 more blocks');
    let mine: PageWatch | undefined;
    await waitFor(async () => {
      const s = await shown(page);
      mine = s.watches.find((w) => w.start === String(A));
      return mine !== undefined && mine.height >= from + 20;
    }, 'the watch brought 20 blocks forward');
    assert.equal(mine!.status, 'current');
    const at = await json<{ block: string }>(`${node.api}/v1/blocks/${mine!.height}`);
    const root = decodeBlock(fromHex(at.block)).signed.header.stateRoot;
    const path = decodePathBytes(fromHex(mine!.path));
    assert.deepEqual(pathRoot(path).digest, root);
    assert.equal(path.leaf?.contract.start, A);

    // The operator signed two blocks at height 2: the page shows proof of cheating and the chain as faulty.
    await waitFor(() => flagged(page), 'the equivocation flagged');

    // The holder gives the first contract away: the page marks its proof superseded.
    const out: string[] = [];
    await contractCommand((s) => out.push(s)).parseAsync(
      [
        'transfer',
        String(A),
        '--to',
        toHex(generateKeyPair().publicKey),
        '--key',
        keyFile,
        '--api',
        node.api,
      ],
      { from: 'user' },
    );
    await waitFor(
      async () => (await shown(page)).watches.some((w) => w.start === String(A) && w.status === 'superseded'),
      'the transferred contract superseded',
    );

    // A reload restores both watches from IndexedDB: the ended one as it ended, the other current at the head.
    await page.reload();
    await waitFor(async () => {
      const s = await shown(page);
      const h = s.chains.find((c) => c.chain === chain.chainId)?.height ?? 0;
      return (
        s.watches.some((w) => w.start === String(A) && w.status === 'superseded') &&
        s.watches.some((w) => w.start === String(B) && w.status === 'current' && w.height === h && h > 0)
      );
    }, 'both watches restored after a reload');
    // The proof of cheating too: the page gossiped it, and asks the node for what it holds against the chain.
    await waitFor(() => flagged(page), 'the equivocation flagged again after the reload');

    // The chain is anchored: the anchor chain's blocks commit its headers, judged in the tab too.
    await waitFor(
      async () => (await shown(page)).chains.some((c) => c.chain === chain.chainId && c.anchored > 0),
      'an anchored height',
    );

    // Past the expiry: "Did I win?" answers with the point drawn from the anchor's header at the expiry height,
    // computed here from the anchor's own block.
    await waitFor(async () => (await anchorHead()) >= expiry, 'the expiry height on the anchor', 60_000);
    const anchorRec = decodeGenesis(
      fromHex((await json<{ genesis: string }>(`${anchor.api}/v1/chain`)).genesis),
    );
    const topRec = decodeGenesis(fromHex((await json<{ genesis: string }>(`${node.api}/v1/chain`)).genesis));
    const atExpiry = await json<{ block: string }>(`${anchor.api}/v1/blocks/${expiry}`);
    const point = winningPoint(
      settlementBeacon(anchorRec, decodeBlock(fromHex(atExpiry.block)).signed, topRec),
      topRec,
    );
    let answered: PageWatch[] = [];
    await waitFor(async () => {
      answered = (await shown(page)).watches;
      return answered.some((w) => w.start === String(B) && w.point !== undefined);
    }, "the lottery answered on the holder's current contract");
    // The transferred contract is no longer the holder's: it gets no answer, or "no".
    for (const w of answered) {
      if (w.start === String(A) && w.point === undefined) continue;
      assert.equal(w.point, String(point));
      const holds = w.status === 'current' && BigInt(w.start) <= point && point < S + SPACE;
      assert.equal(w.won, holds, `contract ${w.start}`);
    }
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });

    // The same page over WebRTC-direct (no certificate needed off localhost), in a fresh profile: it follows the
    // chain.
    const status = await json<{ listen: string[] }>(`${node.api}/v1/status`);
    const rtc = status.listen.find((a) => a.includes('/webrtc-direct/'));
    assert.ok(rtc, `a WebRTC-direct address in ${status.listen.join(' ')}`);
    const fresh = await browser.createBrowserContext();
    const other = await fresh.newPage();
    other.on('pageerror', (e) => errors.push(String(e)));
    const target = await anchorHead();
    await other.goto(`${node.api}/#chain=${chain.chainId}&peer=${encodeURIComponent(rtc)}`);
    await waitFor(
      async () => (await shown(other)).chains.some((c) => c.chain !== chain.chainId && c.height > target),
      'the page following the anchor over WebRTC-direct, past the height it had when it opened',
    );
    assert.deepEqual(errors, []);
  },
);
