// The entry of run.ts's two hibiki worker threads. A worker thread cannot start from a .ts file under
// tsx on Node 20 (its ESM loader hooks do not reach worker threads) but can require one through tsx's
// CommonJS hook (as Piscina loads hibiki's pool worker): workerData[3] is the file to require.
const { workerData } = require('node:worker_threads');
require(workerData[3]);
