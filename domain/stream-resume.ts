/**
 * How a later try at a streamed call meets what earlier tries stored. Output the stored text
 * already has is not stored again: a deterministic model (a seed, temperature 0) picks up where
 * the crash left its readers, who see nothing of it. Output that differs is stored after a
 * `restart` chunk, from its start, so no reader takes a token that contradicts one it has.
 */
export type StreamResume = {
  /** The text stored since the last restart, not yet matched by this try's output. */
  stored: string;
  /** This try's output while it still retraces `stored`. */
  retraced: string;
  /** Past the stored text (or off it): everything now is new. */
  live: boolean;
};

export type StreamPiece = { kind: 'text' | 'restart'; text: string };

export function resumeFrom(stored: string): StreamResume {
  return { stored, retraced: '', live: stored === '' };
}

/** The pieces to store for the next piece of this try's output. */
export function nextPieces(state: StreamResume, text: string): { state: StreamResume; pieces: StreamPiece[] } {
  if (text === '') return { state, pieces: [] };
  if (state.live) return { state, pieces: [{ kind: 'text', text }] };
  const retraced = state.retraced + text;
  if (state.stored.startsWith(retraced)) return { state: { ...state, retraced }, pieces: [] };
  const live: StreamResume = { stored: '', retraced: '', live: true };
  if (retraced.startsWith(state.stored)) {
    return { state: live, pieces: [{ kind: 'text', text: retraced.slice(state.stored.length) }] };
  }
  return { state: live, pieces: restartWith(retraced) };
}

/** What the end of this try's output stores: a restart if it ended short of the stored text. */
export function lastPieces(state: StreamResume): StreamPiece[] {
  if (state.live || state.retraced === state.stored) return [];
  return restartWith(state.retraced);
}

function restartWith(text: string): StreamPiece[] {
  return text === ''
    ? [{ kind: 'restart', text: '' }]
    : [
        { kind: 'restart', text: '' },
        { kind: 'text', text },
      ];
}
