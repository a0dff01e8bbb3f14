import { lastPieces, nextPieces, resumeFrom, type StreamPiece } from '../../domain/stream-resume';

/** What a try stores for its output, given what earlier tries stored. */
function stores(stored: string, output: string[]): StreamPiece[] {
  let state = resumeFrom(stored);
  const pieces: StreamPiece[] = [];
  for (const text of output) {
    const next = nextPieces(state, text);
    state = next.state;
    pieces.push(...next.pieces);
  }
  return [...pieces, ...lastPieces(state)];
}

describe('a later try at a streamed call', () => {
  it('stores everything when nothing was stored', () => {
    expect(stores('', ['We', ' hold', ''])).toEqual([
      { kind: 'text', text: 'We' },
      { kind: 'text', text: ' hold' },
    ]);
  });

  it('stores only what goes past the stored text when it retraces it, however its pieces fall', () => {
    expect(stores('We hold th', ['We', ' hold', ' these', ' truths'])).toEqual([
      { kind: 'text', text: 'ese' },
      { kind: 'text', text: ' truths' },
    ]);
  });

  it('stores nothing when it ends exactly where the stored text does', () => {
    expect(stores('We hold', ['We', ' hold'])).toEqual([]);
  });

  it('restarts, from its start, when its output leaves the stored text', () => {
    expect(stores('We hold these', ['We', ' fold', ' them'])).toEqual([
      { kind: 'restart', text: '' },
      { kind: 'text', text: 'We fold' },
      { kind: 'text', text: ' them' },
    ]);
  });

  it('restarts when it ends short of the stored text', () => {
    expect(stores('We hold these', ['We', ' hold'])).toEqual([
      { kind: 'restart', text: '' },
      { kind: 'text', text: 'We hold' },
    ]);
    expect(stores('We hold these', [])).toEqual([{ kind: 'restart', text: '' }]);
  });
});
