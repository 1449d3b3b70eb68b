import { Command } from 'commander';
import { toHex } from '../crypto/hash.js';
import { writeKeyFile } from '../runtime/keyfile.js';
import { envless } from '../runtime/config.js';

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('create an Ed25519 key file (mode 0600) for an operator, the anchor or a contract owner')
    .addOption(
      envless(
        '--out <file>',
        'where to write the key file',
        'what this invocation writes',
      ).makeOptionMandatory(),
    )
    .addOption(
      envless(
        '--force',
        'replace an existing file (its key is lost)',
        'a stray variable must not overwrite a key unseen',
        false,
      ),
    )
    .action(async (opts: { out: string; force: boolean }) => {
      const key = await writeKeyFile(opts.out, undefined, opts.force);
      process.stdout.write(JSON.stringify({ file: opts.out, publicKey: toHex(key.publicKey) }) + '\n');
    });
}
