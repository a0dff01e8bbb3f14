import type { ChildProcess } from 'node:child_process';
import { stopServiceProcess } from './service-process';

export default async function globalTeardown() {
  await stopServiceProcess((globalThis as { podiumTestServices?: ChildProcess }).podiumTestServices);
}
