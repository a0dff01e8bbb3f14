// The services of one `npm test` run, in a process of their own (started by jest's global setup
// with `node --import tsx`, outside jest's module system). Prints one JSON line when ready;
// stops when its stdin closes (jest went away) or on SIGTERM.
import { startRunServices } from './run-services';
import { serveUntilStopped } from './service-process';

void serveUntilStopped(() => startRunServices());
