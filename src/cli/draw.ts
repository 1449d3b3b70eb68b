// `draw` command (issue 6): runs the pure sortition library on a JSON file or stdin and prints JSON.
//   draw committee --input FILE   Dusk deterministic sortition (src/sortition/dusk-committee.ts)
//   draw group --input FILE       Keep sortition pool selection (src/sortition/keep-pool.ts)
//   draw winner --input FILE      settlement lottery: verify a winner proof (src/sortition/lottery.ts)
// All parsing and validation lives in src/sortition/json.ts and lottery.ts; this module only does I/O and exit
// codes.

import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { envless } from '../runtime/config.js';
import { DrawInputError, runCommitteeJson, runGroupJson } from '../sortition/json.js';
import { SortitionError } from '../sortition/errors.js';
import { LotteryError, runWinnerJson, SELF_TRUST_NOTE } from '../sortition/lottery.js';

/** Exit status for input the command refuses (distinct from commander's usage errors, status 1). */
const EXIT_BAD_INPUT = 2;

async function readInput(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(path, 'utf8');
}

function subcommand(
  name: string,
  description: string,
  run: (input: unknown) => unknown,
  note?: string,
): Command {
  return new Command(name)
    .description(description)
    .addOption(
      envless(
        '--input <file>',
        'JSON input file, or - for stdin',
        'what this invocation reads',
      ).makeOptionMandatory(),
    )
    .action(async (opts: { input: string }, cmd: Command) => {
      let text: string;
      try {
        text = await readInput(opts.input);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        return cmd.error(`draw ${name}: cannot read --input ${opts.input}: ${reason}`, {
          exitCode: EXIT_BAD_INPUT,
          code: 'INPUT_UNREADABLE',
        });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        return cmd.error(`draw ${name}: input is not valid JSON (${reason}); fix the file and retry`, {
          exitCode: EXIT_BAD_INPUT,
          code: 'INPUT_BAD_JSON',
        });
      }
      let result: unknown;
      try {
        result = run(parsed);
      } catch (e) {
        if (e instanceof DrawInputError || e instanceof SortitionError || e instanceof LotteryError) {
          const why = e instanceof LotteryError ? `${e.code}: ${e.message}` : e.message;
          return cmd.error(`draw ${name}: ${why}`, { exitCode: EXIT_BAD_INPUT, code: e.code });
        }
        throw e;
      }
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      // A result that is not what was asked for says so in its `warning` field; scripts reading stdout see
      // it there, people at a terminal here.
      const warning = (result as { warning?: unknown } | null)?.warning;
      if (typeof warning === 'string') process.stderr.write(`draw ${name}: warning: ${warning}\n`);
      if (note) process.stderr.write(note + '\n');
    });
}

export function drawCommand(): Command {
  return new Command('draw')
    .description(
      'Deterministic sortition draws (Dusk committees, Keep sortition-pool groups, settlement lottery winners)',
    )
    .addCommand(
      subcommand(
        'committee',
        'Dusk committee: {"seed","round","step","credits","unit"?,"provisioners":[{"pubkey","stake"}]}',
        runCommitteeJson,
      ),
    )
    .addCommand(
      subcommand(
        'group',
        'Keep group: {"seed" (32 bytes),"size","unique","poolAddress" (20 bytes),"operators":[{"id","weight"}]}',
        runGroupJson,
      ),
    )
    .addCommand(
      subcommand(
        'winner',
        'Settlement lottery: verify {"beacon","round"?,"levels":[{"genesis","header","path"}]} (hex) and print ' +
          '{"point","winner"}',
        runWinnerJson,
        SELF_TRUST_NOTE,
      ),
    );
}
