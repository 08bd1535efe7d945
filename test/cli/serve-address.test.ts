// `hibiki serve` on an address it cannot listen on (issue 21: it printed a
// raw EADDRINUSE or ENOTFOUND stack trace): one line naming the flag, exit
// code 2, before the models load.
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hibikiAsync } from '../helpers/cli.js';

const TRANSLATOR = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));
const NO_MODELS = ['--translate', 'none', '--generate', 'none', '--detect', 'none', '--classify', 'none', '--segment', 'none'];

// A server that did listen runs until killed: code null after the timeout.
const serve = (...args: string[]) => hibikiAsync({ timeoutMs: 30_000 }, 'serve', ...args);

describe('hibiki serve on an address it cannot use', () => {
  it('a busy --port: one line naming it, exit code 2, before the models load', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      for (const models of [NO_MODELS, [...NO_MODELS, '--translate', TRANSLATOR]]) {
        const r = await serve('-p', String(port), ...models);
        expect([r.code, r.stderr, r.stdout]).toEqual([2, `error: --port ${port}: 127.0.0.1:${port} is already in use\n`, '']);
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a --host that does not resolve, and one that is not this machine\'s: one line naming it, exit code 2', async () => {
    const unknown = await serve('-p', '0', '--host', 'no-such-host.invalid', ...NO_MODELS);
    // Without a resolver the lookup fails as EAI_AGAIN rather than ENOTFOUND.
    expect([unknown.code, unknown.stdout]).toEqual([2, '']);
    expect(unknown.stderr).toMatch(/^error: --host no-such-host\.invalid: cannot resolve this host name \((ENOTFOUND|EAI_AGAIN|EAI_FAIL)\)\n$/);
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a machine's own address.
    const foreign = await serve('-p', '0', '--host', '192.0.2.1', ...NO_MODELS);
    expect([foreign.code, foreign.stderr, foreign.stdout]).toEqual([2, 'error: --host 192.0.2.1: not an address of this machine (EADDRNOTAVAIL)\n', '']);
  });
});
