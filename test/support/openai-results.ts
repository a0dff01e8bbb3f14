import { z } from 'zod';

const chatCompletion = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }) })) });

/** The text of a stored chat completion (a request's `result`). */
export function chatContent(result: unknown): string {
  return chatCompletion.parse(result).choices[0]!.message.content;
}
