/**
 * What the page keeps across reloads, in IndexedDB: the holder's watches (the proof as of a height, and how it
 * ended) and the last view (chain and peer). Chain state is not kept: a reload judges the chain again from its
 * genesis, and a kept proof waits for the page to reach its height.
 */
import type { WatchRecord } from './judge.js';

const DB = 'sortition-holder';
const WATCHES = 'watches';
const SETTINGS = 'settings';

export interface LastView {
  readonly chain: string;
  readonly peer: string;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export class PageStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(): Promise<PageStore> {
    const open = indexedDB.open(DB, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(WATCHES);
      open.result.createObjectStore(SETTINGS);
    };
    return new PageStore(await req(open));
  }

  private store(name: string, mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction(name, mode).objectStore(name);
  }

  async watches(): Promise<WatchRecord[]> {
    return req(this.store(WATCHES, 'readonly').getAll() as IDBRequest<WatchRecord[]>);
  }

  async putWatch(w: WatchRecord): Promise<void> {
    await req(this.store(WATCHES, 'readwrite').put(w, `${w.chainId}:${w.start}`));
  }

  async deleteWatch(chainId: string, start: string): Promise<void> {
    await req(this.store(WATCHES, 'readwrite').delete(`${chainId}:${start}`));
  }

  async lastView(): Promise<LastView | undefined> {
    return req(this.store(SETTINGS, 'readonly').get('view') as IDBRequest<LastView | undefined>);
  }

  async setLastView(v: LastView): Promise<void> {
    await req(this.store(SETTINGS, 'readwrite').put(v, 'view'));
  }
}
