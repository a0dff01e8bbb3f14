import {
  chunkEvent,
  eventId,
  positionOf,
  serverSentEvent,
  startOfStream,
  statusEvent,
} from '../../domain/request-events';

describe('request event ids', () => {
  it('name the last chunk and status a reader has, and read back to the same position', () => {
    const position = { seq: 17, status: 'PROCESSING' as const };
    expect(eventId(position)).toBe('17-PROCESSING');
    expect(positionOf('17-PROCESSING')).toEqual(position);
    expect(positionOf(eventId(startOfStream))).toEqual(startOfStream);
  });

  it.each(['', '17', 'PROCESSING', '-1-PROCESSING', '17-RUNNING', '17-processing', '1234567890-COMPLETE'])(
    'refuses %j, which this stream never gives',
    (id) => expect(positionOf(id)).toBeNull(),
  );
});

describe('request events', () => {
  it('move the reader on: a chunk its seq, a status its status', () => {
    const chunk = chunkEvent({ seq: 3, attempt: 1, kind: 'text', text: ' hold' }, { seq: 2, status: 'PROCESSING' });
    expect(chunk).toEqual({
      event: 'chunk',
      data: { seq: 3, attempt: 1, text: ' hold' },
      position: { seq: 3, status: 'PROCESSING' },
    });
    expect(serverSentEvent(chunk)).toBe(
      'id: 3-PROCESSING\nevent: chunk\ndata: {"seq":3,"attempt":1,"text":" hold"}\n\n',
    );
    expect(chunkEvent({ seq: 4, attempt: 2, kind: 'restart', text: '' }, chunk.position)).toMatchObject({
      event: 'restart',
      data: { seq: 4, attempt: 2 },
    });
  });

  it('tell a status once, and never an end as a status', () => {
    expect(statusEvent('PROCESSING', { seq: 0, status: 'REQUESTED' })).toMatchObject({
      event: 'status',
      position: { seq: 0, status: 'PROCESSING' },
    });
    expect(statusEvent('PROCESSING', { seq: 5, status: 'PROCESSING' })).toBeNull();
    expect(statusEvent('COMPLETE', { seq: 5, status: 'PROCESSING' })).toBeNull();
  });
});
