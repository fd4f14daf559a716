import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The sandbox's stand-in app, served by PHP's built-in server on loopback: its session cookie is
 * Pydio 8's (AjaXplorer, SessionService.php), HttpOnly as Pydio's bootstrap sets it, and sent only
 * when a session starts, as PHP does for Pydio. Skipped where PHP is not installed (the e2e tests
 * serve it with Apache where it is).
 */
const SOURCE = path.resolve(__dirname, '..', '..', 'sandbox', 'app');
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

/** A copy of the app (its data/ and cache are the copy's own), served by `php -S` on loopback. */
async function serveCopy(): Promise<{ url: string; app: string; stop: () => void }> {
  const root = mkdtempSync(path.join(tmpdir(), 'pas-app-'));
  const app = path.join(root, 'app');
  const sessions = path.join(root, 'sessions');
  cpSync(SOURCE, app, { recursive: true });
  mkdirSync(sessions);
  const port = await freePort();
  const php: ChildProcess = spawn('php', ['-d', `session.save_path=${sessions}`, '-S', `127.0.0.1:${port}`, '-t', app], { stdio: 'ignore' });
  const stop = () => {
    php.kill();
    rmSync(root, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i += 1) {
    try {
      await fetch(`${url}/work.php?ms=1`);
      return { url, app, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  stop();
  throw new Error('php -S did not answer');
}

describePhp('stand-in app session cookie', () => {
  let served: Awaited<ReturnType<typeof serveCopy>>;
  let url = '';

  beforeAll(async () => {
    served = await serveCopy();
    url = served.url;
    // A node that skips the install wizard (configure-app.sh's marker in the node cache).
    writeFileSync(path.join(served.app, 'data', 'cache', 'first_run_passed'), '');
  });

  afterAll(() => served?.stop());

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

describePhp("stand-in app first run (Pydio's ApplicationState::detectApplicationFirstRun)", () => {
  let served: Awaited<ReturnType<typeof serveCopy>>;

  beforeAll(async () => {
    served = await serveCopy();
  });

  afterAll(() => served?.stop());

  it('serves the install wizard, counting no session, while neither first_run_passed marker exists', async () => {
    const body = (await (await fetch(`${served.url}/index.php`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ installWizard: true, session: 'AjaXplorer' });
    expect(body.count).toBeUndefined();
  });

  it('serves the app once the wizard completed (AJXP_DATA_PATH/plugins/boot.conf/first_run_passed, shared)', async () => {
    const bootConf = path.join(served.app, 'data', 'plugins', 'boot.conf');
    mkdirSync(bootConf, { recursive: true });
    writeFileSync(path.join(bootConf, 'first_run_passed'), 'true');
    const body = (await (await fetch(`${served.url}/index.php`)).json()) as Record<string, unknown>;
    expect(body.installWizard).toBeUndefined();
    expect(body).toMatchObject({ count: 1 });
    rmSync(path.join(served.app, 'data', 'plugins'), { recursive: true });
  });

  it("serves the app on a node whose own cache holds first_run_passed (configure-app.sh's later nodes)", async () => {
    writeFileSync(path.join(served.app, 'data', 'cache', 'first_run_passed'), '');
    const body = (await (await fetch(`${served.url}/index.php`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ count: 1 });
  });
});
