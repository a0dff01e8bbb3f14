import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinal } from '../../domain/request-status';
import type { apiClient } from '../support/api-client';

type Api = ReturnType<typeof apiClient>;

/** The codes an API may answer with while a dependency is down: nothing else is allowed then. */
const outageCodes = new Set(['DATABASE_UNAVAILABLE', 'SERVICE_OVERLOADED', 'TEMPORAL_UNAVAILABLE']);

/** How the API answered: fine (2xx), a coded 503 within 2 s, or something it should not have. */
export type Answers = { ok: number; coded503: number; wrong: string[]; slowestMs: number };

const noAnswers = (): Answers => ({ ok: 0, coded503: 0, wrong: [], slowestMs: 0 });

function judge(answers: Answers, what: string, status: number, body: unknown, ms: number): 'ok' | '503' | 'wrong' {
  answers.slowestMs = Math.max(answers.slowestMs, ms);
  const code = (body as { error?: { code?: string } })?.error?.code;
  if (status >= 200 && status < 300 && ms <= 2_000) {
    answers.ok++;
    return 'ok';
  }
  if (status === 503 && code && outageCodes.has(code) && ms <= 2_000) {
    answers.coded503++;
    return '503';
  }
  if (answers.wrong.length < 20) answers.wrong.push(`${what}: ${status} ${code ?? ''} in ${Math.round(ms)} ms`);
  return 'wrong';
}

async function timed(call: () => ReturnType<Api['call']>) {
  const t0 = performance.now();
  const response = await call().catch((error: Error) => ({
    status: 0,
    body: { error: { code: error.message } },
    headers: new Headers(),
  }));
  return { ...response, ms: performance.now() - t0 };
}

/**
 * `clients` users, each submitting an echo request (the model takes `delayMs`) and waiting for
 * its end (`?wait`) before the next. A refused submission (a coded 503 during an outage) is tried
 * again after a pause; every answer is judged. `stop` ends the submitting and returns the ids of
 * the requests the API accepted (202), which the suite then follows to their end.
 */
export async function startLoad(api: Api, options: { clients: number; delayMs: number }) {
  const answers = noAnswers();
  const accepted: string[] = [];
  const submitToEndMs: number[] = [];
  let running = true;
  const input = {
    inputs: [{ name: 'numbers', shape: [2], datatype: 'FP32', data: [1, 2] }],
    parameters: { delay_ms: options.delayMs },
  };
  const client = async () => {
    let token: string | null = null;
    while (running) {
      if (!token) {
        const session = await timed(() => api.call('POST', '/api/sessions/anonymous'));
        if (judge(answers, 'POST /api/sessions/anonymous', session.status, session.body, session.ms) === 'ok')
          token = session.body.token;
        else await sleep(250);
        continue;
      }
      const t0 = performance.now();
      const submitted = await timed(() => api.submit(token!, { model: 'echo', input }));
      if (judge(answers, 'POST /api/requests', submitted.status, submitted.body, submitted.ms) !== 'ok') {
        await sleep(250);
        continue;
      }
      const id = submitted.body.id as string;
      accepted.push(id);
      while (running) {
        const seen = await timed(() => api.call('GET', `/api/requests/${id}?wait=1`, { token: token! }));
        // A long poll may rightly take its second: judge its time less the wait.
        const verdict = judge(answers, 'GET /api/requests/:id?wait=1', seen.status, seen.body, seen.ms - 1_000);
        if (verdict === 'ok' && isFinal(seen.body.status)) {
          submitToEndMs.push(performance.now() - t0);
          break;
        }
        if (verdict !== 'ok') await sleep(250);
      }
    }
  };
  const clients = Array.from({ length: options.clients }, client);
  return {
    accepted,
    answers,
    async stop() {
      running = false;
      await Promise.all(clients);
      return { accepted, answers, submitToEndMs };
    },
  };
}

/**
 * Asks the API, four times a second, whether it is ready and for a page of requests (a route
 * that reads PostgreSQL): during an outage each must be a coded 503 within 2 s, or a 200.
 */
export function startProbe(api: Api, token: string) {
  const answers = noAnswers();
  let running = true;
  const probing = (async () => {
    while (running) {
      for (const path of ['/api/health/ready', '/api/requests?limit=1']) {
        const answer = await timed(() => api.call('GET', path, { token }));
        judge(answers, `GET ${path}`, answer.status, answer.body, answer.ms);
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await probing;
      return answers;
    },
  };
}

/** Adds one set of answers to another. */
export function mergeAnswers(a: Answers, b: Answers): Answers {
  return {
    ok: a.ok + b.ok,
    coded503: a.coded503 + b.coded503,
    wrong: [...a.wrong, ...b.wrong].slice(0, 20),
    slowestMs: Math.max(a.slowestMs, b.slowestMs),
  };
}
