// Generates static protobufjs code for every proto/*.proto into src/gen/ (types) and dist/src/gen/ (runtime),
// so that wire formats have exactly one source: the .proto files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
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
const out = join(root, 'dist', 'src', 'gen');
mkdirSync(out, { recursive: true });
copyFileSync(js, join(out, 'proto.js'));
copyFileSync(join(gen, 'proto.d.ts'), join(out, 'proto.d.ts'));
