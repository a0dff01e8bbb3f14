import { inferenceRequest, isGenerateStreamCall, streamedText, textResponse } from '../../domain/inference-protocol';
import { isOpenAiCall } from '../../domain/openai-api';

const tensor = (overrides: object) => ({
  inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2], ...overrides }],
});

describe('Open Inference Protocol v2 requests', () => {
  it('accepts flat and nested data that fills the shape', () => {
    expect(inferenceRequest.safeParse(tensor({})).success).toBe(true);
    expect(
      inferenceRequest.safeParse(
        tensor({
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        }),
      ).success,
    ).toBe(true);
    expect(inferenceRequest.safeParse(tensor({ shape: [1], datatype: 'BYTES', data: ['hello'] })).success).toBe(true);
    expect(inferenceRequest.safeParse(tensor({ shape: [0], data: [] })).success).toBe(true);
  });

  it.each([
    ['too few elements', { shape: [3] }, 'shape [3] needs 3 element(s), data has 2'],
    ['a string in a number tensor', { data: [1, 'two'] }, 'element 1 is not a valid FP32 value'],
    ['a fraction in an integer tensor', { datatype: 'INT64', data: [1, 2.5] }, 'element 1 is not a valid INT64 value'],
    ['a number in a BYTES tensor', { datatype: 'BYTES', data: ['a', 2] }, 'element 1 is not a valid BYTES value'],
  ])('rejects %s', (_name, overrides, message) => {
    const result = inferenceRequest.safeParse(tensor(overrides));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((issue) => issue.message)).toContain(message);
  });

  it('rejects unknown datatypes and empty inputs', () => {
    expect(inferenceRequest.safeParse(tensor({ datatype: 'FLOAT' })).success).toBe(false);
    expect(inferenceRequest.safeParse({ inputs: [] }).success).toBe(false);
  });
});

describe("OIP's generate_stream", () => {
  it('is told apart from an OpenAI call and from a plain inference request by its url', () => {
    const call = { url: '/v2/models/{name}/generate_stream', body: { inputs: [] } };
    expect(isGenerateStreamCall(call)).toBe(true);
    expect(isOpenAiCall(call)).toBe(false);
    expect(isOpenAiCall({ url: '/v1/completions', body: { prompt: 'hi' } })).toBe(true);
    expect(isGenerateStreamCall({ inputs: [] })).toBe(false);
  });

  it("takes a streamed response's text from its first BYTES output, and gives the whole text back as one", () => {
    const piece = {
      model_name: 'words',
      outputs: [
        { name: 'score', datatype: 'FP32' as const, shape: [1], data: [0.5] },
        { name: 'text', datatype: 'BYTES' as const, shape: [1, 1], data: [[' stream']] },
      ],
    };
    expect(streamedText(piece)).toBe(' stream');
    expect(streamedText({ model_name: 'x', outputs: [piece.outputs[0]!] })).toBeNull();
    expect(textResponse('words', 'text', 'a stream')).toEqual({
      model_name: 'words',
      outputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['a stream'] }],
    });
  });
});
