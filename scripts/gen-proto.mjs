// Generates static protobufjs code for every proto/*.proto into src/gen/ (types) and dist/src/gen/ (runtime),
// so that wire formats have exactly one source: the .proto files. Keyed by a hash of the .proto files, the generator's
// version and this script (src/gen/proto.sources): unchanged, nothing is generated again (pbjs and pbts take seconds
// of every `npm start` otherwise).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', '.bin');
const protos = readdirSync(join(root, 'proto'))
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => join(root, 'proto', f));
const gen = join(root, 'src', 'gen');
mkdirSync(gen, { recursive: true });
const js = join(gen, 'proto.js');
const out = join(root, 'dist', 'src', 'gen');
const hash = createHash('sha256')
  .update(readFileSync(join(root, 'node_modules', 'protobufjs-cli', 'package.json')))
  .update(readFileSync(fileURLToPath(import.meta.url)));
for (const p of protos) hash.update(p).update(readFileSync(p));
const key = hash.digest('hex');
const stamp = join(gen, 'proto.sources');
const copyToDist = () => {
  mkdirSync(out, { recursive: true });
  for (const f of ['proto.js', 'proto.d.ts']) {
    const [from, to] = [join(gen, f), join(out, f)];
    if (!existsSync(to) || !readFileSync(to).equals(readFileSync(from))) copyFileSync(from, to);
  }
};
if (
  existsSync(js) &&
  existsSync(join(gen, 'proto.d.ts')) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === key
) {
  copyToDist();
  process.exit(0);
}
execFileSync(
  join(bin, 'pbjs'),
  [
    '-t',
    'static-module',
    '-w',
    'es6',
    '--force-long',
    '--no-verify',
    '--no-convert',
    '--no-delimited',
    '--no-beautify',
    '--no-service',
    '-o',
    js,
    ...protos,
  ],
  { stdio: 'inherit' },
);
// NodeNext ESM needs the explicit file extension on the runtime import.
writeFileSync(
  js,
  readFileSync(js, 'utf8').replace(/from "protobufjs\/minimal"/g, 'from "protobufjs/minimal.js"'),
);
execFileSync(join(bin, 'pbts'), ['--no-comments', '-o', join(gen, 'proto.d.ts'), js], { stdio: 'inherit' });
copyToDist();
writeFileSync(stamp, `${key}\n`);
