import {
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  SchemaValidationError,
  UniqueIntegrityConstraintViolationError,
} from 'slonik';
import { isDatabaseUnavailable } from '../../db/database-failures';
import { QueryDeadlineError } from '../../db/query-deadline';

const withCode = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable: which database errors are worth another try', () => {
  it.each([
    ['a connection that could not be made', new ConnectionError('connection refused')],
    ['a backend that went away', new BackendTerminatedUnexpectedlyError(new Error('gone'))],
    ['a query past the API deadline', new QueryDeadlineError(1_500)],
    ['a refused socket', withCode('ECONNREFUSED')],
    ['a reset socket', withCode('ECONNRESET')],
    ['a server shutting down (57P01)', withCode('57P01')],
    ['a server starting up (57P03)', withCode('57P03')],
    ['a connection exception (08006)', withCode('08006')],
    ['too many connections (53300)', withCode('53300')],
    ['a serialization failure (40001)', withCode('40001')],
    ["pg's connect timeout", new Error('timeout exceeded when trying to connect')],
    ["pg's lost connection", new Error('Connection terminated unexpectedly')],
    [
      "pg's client queried after its connection broke",
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ["pg's client queried after it was closed", new Error('Client was closed and is not queryable')],
    ["a socket reset in Node's words, its code lost", new Error('read ECONNRESET')],
    ['any of these as a cause', new Error('wrapped', { cause: withCode('ECONNREFUSED') })],
  ])('%s: yes', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    [
      'a unique violation',
      new UniqueIntegrityConstraintViolationError(Object.assign(new Error('dup'), { code: '23505' }) as never),
    ],
    ['a row that does not parse', new SchemaValidationError({ sql: 'SELECT 1', values: [] }, {}, [])],
    ['a syntax error (42601)', withCode('42601')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a message that only mentions a socket error', new Error('the model said: read ECONNRESET')],
    ['not an error at all', 'a string'],
  ])('%s: no', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
