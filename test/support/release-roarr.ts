// roarr (slonik's logger) adds an `error` listener to process.stdout when it loads and keeps its
// teardown on globalThis.ROARR. Jest gives each test file a fresh global but the same stdout,
// so every file a worker runs would leave one more listener (Node warns past ten). Each file
// takes its own off when it is done.
afterAll(() => {
  (globalThis as { ROARR?: { teardown?: () => void } }).ROARR?.teardown?.();
});
