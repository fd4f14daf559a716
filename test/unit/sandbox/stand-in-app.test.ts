import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The sandbox's stand-in app, served by PHP's built-in server on loopback: its session cookie is
 * Pydio 8's (AjaXplorer, SessionService.php), HttpOnly as Pydio's bootstrap sets it, and sent only
 * when a session starts, as PHP does for Pydio. Skipped where PHP is not installed (the e2e tests
 * serve it with Apache where it is).
 */
const APP = path.resolve(__dirname, '..', '..', 'sandbox', 'app');
const hasPhp = spawnSync('php', ['-v'], { stdio: 'ignore' }).status === 0;
const describePhp = hasPhp ? describe : describe.skip;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describePhp('stand-in app session cookie', () => {
  let php: ChildProcess;
  let url = '';
  let sessions = '';

  beforeAll(async () => {
    sessions = mkdtempSync(path.join(tmpdir(), 'pas-sessions-'));
    const port = await freePort();
    php = spawn('php', ['-d', `session.save_path=${sessions}`, '-S', `127.0.0.1:${port}`, '-t', APP], { stdio: 'ignore' });
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i += 1) {
      try {
        await fetch(`${url}/index.php`);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('php -S did not answer');
  });

  afterAll(() => {
    php?.kill();
    rmSync(sessions, { recursive: true, force: true });
  });

  it('opens a session named AjaXplorer, HttpOnly, and names no cookie Pydio', async () => {
    const res = await fetch(`${url}/index.php`);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^AjaXplorer=[A-Za-z0-9,-]+; path=\//);
    expect(cookies[0]).toMatch(/; HttpOnly/i);
    expect(cookies.join('\n')).not.toMatch(/(^|\n)Pydio=/);
    expect(await res.json()).toMatchObject({ session: 'AjaXplorer', count: 1 });
  });

  it('sets the cookie once: a request that carries it gets no new one and the same session', async () => {
    const first = await fetch(`${url}/index.php`);
    const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!;
    const again = await fetch(`${url}/index.php`, { headers: { cookie } });
    expect(again.headers.getSetCookie()).toEqual([]);
    expect(await again.json()).toMatchObject({ count: 2 });
  });
});
