/**
 * An operator in a process of its own, for the crash test: `node crash-child.js <data-dir>` (the directory holds
 * key.json and genesis.hex). Prints one JSON line `{url, token, height, pending}` when it serves, and stops cleanly
 * (sealing what is pending) on SIGTERM. The test kills it with SIGKILL at random moments.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { HttpApi } from '../../src/runtime/http.js';
import { createLogger } from '../../src/runtime/logger.js';
import { prepareOperator, startOperator } from '../../src/app/operator.js';

const dataDir = process.argv[2];
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'crash-child');
const api = new HttpApi(log);
const addr = await api.start('127.0.0.1', 0);
const prepared = await prepareOperator(
  {
    dataDir,
    key: join(dataDir, 'key.json'),
    chainGenesis: join(dataDir, 'genesis.hex'),
    blockIntervalMs: 25,
    maxPending: 64,
  },
  { log },
);
const op = await startOperator(prepared, {
  api,
  registry: new Registry(),
  log,
  sink: { publishBlock: async () => undefined },
});
process.stdout.write(
  JSON.stringify({
    url: `http://127.0.0.1:${addr.port}`,
    token: op.token,
    height: op.service.head.height,
    pending: op.service.pendingCount,
  }) + '\n',
);
process.once('SIGTERM', () => {
  void (async () => {
    await op.stop();
    await api.stop();
    process.exit(0);
  })();
});
