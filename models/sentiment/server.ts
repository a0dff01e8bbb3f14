import Sentiment from 'sentiment';
import { ModelInputError, serveModel } from '../oip-server.ts';

const analyzer = new Sentiment();

/** AFINN-165 comparative score: the sum of word scores divided by the number of words. */
function labelFor(comparative: number): 'positive' | 'negative' | 'neutral' {
  if (comparative > 0.05) return 'positive';
  if (comparative < -0.05) return 'negative';
  return 'neutral';
}

serveModel({
  name: 'sentiment',
  version: '1',
  platform: 'afinn-165',
  inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
  outputs: [
    { name: 'label', datatype: 'BYTES', shape: [-1] },
    { name: 'score', datatype: 'FP32', shape: [-1] },
  ],
  infer: async (request) => {
    const text = request.inputs.find((input) => input.datatype === 'BYTES');
    const texts = text?.data?.flat(Infinity);
    if (!text || !texts?.every((value) => typeof value === 'string')) {
      throw new ModelInputError('sentiment needs a BYTES input tensor of strings');
    }
    const analyses = (texts as string[]).map((value) => analyzer.analyze(value));
    const shape = [analyses.length];
    return {
      outputs: [
        { name: 'label', shape, datatype: 'BYTES', data: analyses.map((a) => labelFor(a.comparative)) },
        { name: 'score', shape, datatype: 'FP32', data: analyses.map((a) => a.comparative) },
      ],
    };
  },
});
