import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GigaChatPeer } from '../peers/gigachat.peer.js';
import { decisionReply } from '../support/stack.js';
import { SHIPPED_KNOWLEDGE_BASE } from '../support/test-app.js';
import { buildService, freePort, spawnService, waitForHttp } from '../support/service-process.js';

interface LogLine {
  msg: string;
  level: string;
  req?: { method: string; path: string; remoteAddress?: string };
}

describe('the service process', () => {
  beforeAll(() => buildService(), 120_000);

  it('stops with exit code 1 and one line per configuration problem', async () => {
    const service = spawnService({
      PORT: 'abc',
      DATABASE_URL: 'mysql://root:hunter2@db/app',
      GIGACHAT_CA_BUNDLE: '/nonexistent/ca.pem',
      PROCESSING_CONCURRENCY: '-2',
    });
    expect(await service.exited).toBe(1);
    const lines = service.stderr().trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Configuration error: PORT must be a port number between 1 and 65535 \(got "abc"\)$/),
        expect.stringMatching(/^Configuration error: DATABASE_URL uses the unsupported scheme "mysql"/),
        expect.stringMatching(/^Configuration error: GIGACHAT_CA_BUNDLE names a file that does not exist/),
        expect.stringMatching(/^Configuration error: PROCESSING_CONCURRENCY must be a whole number/),
      ]),
    );
    expect(service.stderr()).not.toContain('hunter2');
  });

  it('refuses production without WEBHOOK_SECRET and ADMIN_API_KEY', async () => {
    const service = spawnService({ NODE_ENV: 'production', PORT: String(await freePort()) });
    expect(await service.exited).toBe(1);
    expect(service.stderr()).toContain('Configuration error: WEBHOOK_SECRET must be set when NODE_ENV=production');
    expect(service.stderr()).toContain('Configuration error: ADMIN_API_KEY must be set when NODE_ENV=production');
  });

  it('reads .env from its working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ai-support-env-'));
    writeFileSync(join(cwd, '.env'), '# local settings\nAUTO_REPLY_LIMIT=lots\n');
    const service = spawnService({}, cwd);
    expect(await service.exited).toBe(1);
    expect(service.stderr()).toMatch(/AUTO_REPLY_LIMIT must be a whole number/);
  });

  it('starts with nothing configured, logs JSON, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    const service = spawnService({ PORT: String(port), KNOWLEDGE_BASE_DIR: SHIPPED_KNOWLEDGE_BASE });
    try {
      await waitForHttp(`${service.baseUrl}/health/ready`);
    } catch (error) {
      await service.stop('SIGKILL');
      throw new Error(`${String(error)}\n${service.stderr()}\n${service.stdout()}`, { cause: error });
    }
    // Without TRUST_PROXY a forwarded address is not believed: the log names the socket's.
    await fetch(`${service.baseUrl}/api/tickets`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(await service.stop('SIGTERM')).toBe(0);
    const lines = service.stdout().trim().split('\n').map((line) => JSON.parse(line) as LogLine);
    expect(lines.some((line) => line.msg.startsWith(`listening on http://localhost:${port}`))).toBe(true);
    expect(lines.some((line) => line.msg === 'shutting down')).toBe(true);
    expect(lines.find((line) => line.msg === 'GET /api/tickets 200')?.req?.remoteAddress).toMatch(/127\.0\.0\.1$/);
  });

  it('with TRUST_PROXY=1 logs the client address the proxy forwarded', async () => {
    const service = spawnService({ PORT: String(await freePort()), KNOWLEDGE_BASE_DIR: SHIPPED_KNOWLEDGE_BASE, TRUST_PROXY: '1' });
    await waitForHttp(`${service.baseUrl}/health/ready`);
    await fetch(`${service.baseUrl}/api/tickets`, { headers: { 'X-Forwarded-For': '192.0.2.1, 203.0.113.9' } });
    expect(await service.stop('SIGTERM')).toBe(0);
    const lines = service.stdout().trim().split('\n').map((line) => JSON.parse(line) as LogLine);
    expect(lines.find((line) => line.msg === 'GET /api/tickets 200')?.req).toMatchObject({ method: 'GET', path: '/api/tickets', remoteAddress: '203.0.113.9' });
  });

  it('on SIGTERM finishes the request in flight and its ticket before exiting; a ?wait=true call for a ticket not yet started answers 202 at once', async () => {
    const gigachat = await GigaChatPeer.start({ latencyMs: 1500 });
    gigachat.setResponder(() => decisionReply({ decision: 'full_answer' }));
    const port = await freePort();
    const service = spawnService({
      PORT: String(port),
      KNOWLEDGE_BASE_DIR: SHIPPED_KNOWLEDGE_BASE,
      GIGACHAT_AUTH_KEY: gigachat.authKey,
      GIGACHAT_AUTH_URL: gigachat.authUrl,
      GIGACHAT_API_URL: gigachat.apiUrl,
      PROCESSING_CONCURRENCY: '1',
    });
    const post = (n: number) =>
      fetch(`${service.baseUrl}/api/webhook/email?wait=true`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ from: `ivan${n}@example.ru`, subject: 'Возврат', text: 'Как вернуть товар?', messageId: `<sigterm-wait-${n}@example.ru>` }),
      });
    try {
      await waitForHttp(`${service.baseUrl}/health/ready`);
      const analysed = post(1);
      const deadline = Date.now() + 10_000;
      while (gigachat.stats.chatCalls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const queued = post(2);
      // The second ticket is stored (and waits behind the first: one at a time) before the signal.
      for (;;) {
        const list = (await (await fetch(`${service.baseUrl}/api/tickets?status=received`)).json()) as { total: number };
        if (list.total === 1 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      service.child.kill('SIGTERM');

      const second = await queued;
      expect(second.status).toBe(202);
      expect(await second.json()).toMatchObject({ status: 'received', duplicate: false });
      const first = await analysed;
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ status: 'answered', decision: 'full_answer' });
      expect(await service.exited).toBe(0);
      expect(gigachat.stats.chatCalls).toBe(1);
    } finally {
      await service.stop('SIGKILL');
      await gigachat.close();
    }
  });
});

