// Writes the Docker Swarm stack files (docker-stack.yml and its override files) from docker-compose.yml, the one
// source of the topology; test/devnet/stack.test.ts fails when the committed files differ from what this writes.
//   npm run stack                  # builds first
//   node scripts/gen-stack.mjs     # after `npm run build`
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { stackFiles } = await import(join(root, 'dist', 'src', 'devnet', 'stack.js'));
const files = stackFiles(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
for (const [name, text] of Object.entries(files)) {
  const path = join(root, name);
  const same = existsSync(path) && readFileSync(path, 'utf8') === text;
  if (!same) writeFileSync(path, text);
  process.stderr.write(`stack: ${name} ${same ? 'unchanged' : 'written'}\n`);
}
