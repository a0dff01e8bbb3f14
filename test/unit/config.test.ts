import { parseConfig } from '../../domain/config';

describe('configuration', () => {
  it('has embedded defaults for everything', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ PORT: 8080, DATABASE_SCHEMA: 'podium', TEMPORAL_TASK_QUEUE: 'podium', REQUEST_BODY_LIMIT: '1mb' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    const config = parseConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: ' ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('names each bad variable', () => {
    expect(() => parseConfig({ PORT: 'eighty', DATABASE_SCHEMA: 'Robert"; DROP' })).toThrow(/PORT:[\s\S]*DATABASE_SCHEMA:/);
  });
});
