// Helpers the sortition tests share: the error code a call throws, and the `draw` CLI run in a child process
// (commander's error handling ends the process, so the CLI's real stdin, stdout and exit status need one).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const drawModule = pathToFileURL(fileURLToPath(new URL('../../src/cli/draw.js', import.meta.url))).href;

/** Runs `draw <args>` with `stdin`, as a user's shell would. */
export function runDraw(
  args: string[],
  stdin = '',
): { status: number | null; stdout: string; stderr: string } {
  const script = `import { drawCommand } from ${JSON.stringify(drawModule)};
await drawCommand().parseAsync(process.argv.slice(1), { from: 'user' });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], {
    input: stdin,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder and a writer of input files into it (objects as JSON). */
export function inputFiles(prefix: string): {
  dir: string;
  file: (name: string, content: unknown) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
      return p;
    },
  };
}
