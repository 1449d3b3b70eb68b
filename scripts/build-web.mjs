// Bundles the holder page (web/) into dist/web with esbuild: the page's script, the judging worker, and the
// static files beside them, so dist/web works served by a node (--web) or from any static file host.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'web/src/main.ts'), worker: join(root, 'web/src/worker.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  // prom-client needs Node; the page keeps no metrics (web/src/prom-client-stub.ts).
  alias: { 'prom-client': join(root, 'web/src/prom-client-stub.ts') },
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css']) await copyFile(join(root, 'web', f), join(out, f));
