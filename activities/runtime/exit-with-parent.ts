// Runs a model server that does not watch its stdin (MLServer, KServe, Triton, custom ones) and
// stops it when the worker that started this goes away: the worker's end of our stdin closes
// even when the worker is killed. A SIGTERM from the worker is passed on. Plain Node 24 (type
// stripping), so erasable TypeScript only.
import { spawn } from 'node:child_process';

const stopGraceMs = 5_000;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: exit-with-parent.ts <command> [args…]\n');
  process.exit(2);
}

const server = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
server.once('error', (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(127);
});
server.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));

function stop() {
  server.kill('SIGTERM');
  setTimeout(() => server.kill('SIGKILL'), stopGraceMs).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
