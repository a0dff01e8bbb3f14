import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../../infra/temporal-cli';

/** The `temporal` lines of docs/operations.md's "Operator signals", by the signal (or workflow type) each sends. */
export async function documentedOperatorCommands(): Promise<Map<string, string>> {
  const doc = await readFile(path.resolve(__dirname, '../../docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Operator signals'));
  const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
  const commands = new Map<string, string>();
  for (const line of block.split('\n').filter((l) => l.startsWith('temporal '))) {
    const name = /--name (\w+)/.exec(line)?.[1] ?? /--type (\w+)/.exec(line)?.[1];
    if (!name) throw new Error(`a documented command names no signal or workflow type: ${line}`);
    commands.set(name, line);
  }
  return commands;
}

/** Runs one documented line as an operator's shell would, with the real Temporal CLI and these variables. */
export async function runOperatorCommand(line: string, variables: Record<string, string>): Promise<string> {
  const temporal = ensureTemporalCli(() => undefined);
  const { stdout } = await promisify(execFile)('sh', ['-c', line], {
    env: { ...process.env, ...variables, PATH: `${path.dirname(temporal)}:${process.env.PATH}` },
  });
  return stdout;
}
