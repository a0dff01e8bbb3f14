import { assembledResult, openAiCall, streams, withinTokenLimit, type OpenAiCall } from '../../domain/openai-api';

const chat = (body: Record<string, unknown>) =>
  openAiCall.parse({ url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 'hi' }], ...body } });

describe('OpenAI calls', () => {
  it('keep fields Podium does not know, for the model server’s own extensions', () => {
    expect(chat({ top_k: 5 }).body).toMatchObject({ top_k: 5 });
  });

  it('stream only when asked, and embeddings never', () => {
    expect(streams(chat({ stream: true }))).toBe(true);
    expect(streams(chat({}))).toBe(false);
    expect(openAiCall.safeParse({ url: '/v1/embeddings', body: { input: 'hi', stream: true } }).success).toBe(false);
  });

  it('refuse more than one choice', () => {
    expect(
      openAiCall.safeParse({ url: '/v1/completions', body: { prompt: 'hi', n: 2 } }).error?.issues[0]?.message,
    ).toBe('Podium gives one choice per request: n must be 1');
  });
});

describe('the catalog’s token limit', () => {
  it('refuses a call that asks for more, by either name', () => {
    expect(withinTokenLimit(chat({ max_tokens: 101 }), 100)).toBeNull();
    expect(withinTokenLimit(chat({ max_completion_tokens: 101 }), 100)).toBeNull();
  });

  it('asks for the limit when the call names none, and leaves other calls as they are', () => {
    expect(withinTokenLimit(chat({}), 100)?.body).toMatchObject({ max_tokens: 100 });
    const asked: OpenAiCall = chat({ max_tokens: 7 });
    expect(withinTokenLimit(asked, 100)).toBe(asked);
    expect(withinTokenLimit(chat({}), null)?.body).not.toHaveProperty('max_tokens');
  });
});

describe('a streamed answer', () => {
  it('adds up to the answer the endpoint gives without streaming', () => {
    const stream = { id: 'c-1', model: 'markov', created: 1, text: 'We hold', finishReason: 'length', usage: null };
    expect(assembledResult('/v1/chat/completions', stream)).toMatchObject({
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'We hold' }, finish_reason: 'length' }],
    });
    expect(assembledResult('/v1/completions', stream)).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, text: 'We hold', finish_reason: 'length' }],
    });
  });
});
