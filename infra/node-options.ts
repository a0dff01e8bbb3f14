/**
 * The V8 heap settings Podium's processes run with: `npm start`, `npm run worker` and the image.
 * V8 sizes its heaps from the machine's memory and grows them rather than collect, so one
 * process held 800 MB for 150 MB of live objects. 4 MB semi-spaces (per isolate: the main one and
 * the workflow thread's) and a 256 MB old space hold it near 300 MB at the same throughput
 * (docs/architecture.md, "Memory"). NODE_OPTIONS set by the operator replaces them.
 */
export const podiumNodeOptions = '--max-semi-space-size=4 --max-old-space-size=256';
