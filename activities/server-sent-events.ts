import { createParser } from 'eventsource-parser';

/**
 * Reads a model's server-sent events, handing each event's data to `onData` in order and
 * waiting for it (its chunks are relayed as they come). Stops at the end of the body or at
 * OpenAI's `[DONE]`.
 */
export async function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  onData: (data: string) => Promise<void>,
): Promise<void> {
  const pending: string[] = [];
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (event.data === '[DONE]') done = true;
      else if (!done) pending.push(event.data);
    },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    parser.feed(decoder.decode(value, { stream: true }));
    for (const data of pending.splice(0)) await onData(data);
    if (done) {
      await reader.cancel();
      break;
    }
  }
}

/** An event's data as JSON; `bad` names what it was when it is not JSON. */
export function eventJson(data: string, bad: () => Error): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw bad();
  }
}
