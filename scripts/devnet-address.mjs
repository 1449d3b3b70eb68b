// Prints the devnet anchor's address: where `evm node` deploys it through the CREATE2 factory with the devnet's
// parameters and the default salt, which moves with every change of the contracts' bytecode. With --write, also puts
// it in docker-compose.yml (SORTITION_ANCHOR_ADDRESS), the one place that must hold it as a literal.
//   npm run devnet-address            # builds first, then rewrites docker-compose.yml
//   node scripts/devnet-address.mjs   # after `npm run build`: prints it
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { DEVNET_ANCHOR_ADDRESS } = await import(join(root, 'dist', 'src', 'evm', 'devnode.js'));
process.stdout.write(`${DEVNET_ANCHOR_ADDRESS}\n`);
if (process.argv.includes('--write')) {
  const file = join(root, 'docker-compose.yml');
  const text = readFileSync(file, 'utf8');
  const pattern = /(SORTITION_ANCHOR_ADDRESS: ')0x[0-9a-fA-F]{40}(')/g;
  if (!pattern.test(text)) {
    process.stderr.write(`devnet-address: no SORTITION_ANCHOR_ADDRESS: '0x...' in ${file}\n`);
    process.exit(1);
  }
  const next = text.replace(pattern, `$1${DEVNET_ANCHOR_ADDRESS}$2`);
  if (next !== text) writeFileSync(file, next);
  process.stderr.write(
    `devnet-address: docker-compose.yml ${next === text ? 'already names' : 'now names'} it\n`,
  );
}
