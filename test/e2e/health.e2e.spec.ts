import request from 'supertest';
import { createTestDatabase, type TestDatabase, testDatabases } from '../support/databases.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe.each(testDatabases())('health on %s', (kind) => {
  let database: TestDatabase;
  let t: TestApp;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    t = await startTestApp({ DATABASE_URL: database.url });
  });

  afterEach(async () => {
    await t.close().catch(() => undefined);
    await database.drop();
  });

  it('reports a working database', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' } } });
  });

  it('is live and, once the knowledge base is loaded, ready', async () => {
    await request(t.http).get('/health/live').expect(200);
    await waitFor(async () => (await request(t.http).get('/health/ready')).status === 200);
    const res = await request(t.http).get('/health/ready').expect(200);
    expect(res.body.details).toMatchObject({
      database: { status: 'up' },
      migrations: { status: 'up' },
      knowledgeBase: { status: 'up' },
      lifecycle: { status: 'up' },
    });
    expect(res.body.details.knowledgeBase.articles).toBeGreaterThanOrEqual(15);
  });

  it('answers 503 with the Terminus error body when the database is gone, and keeps serving', async () => {
    await t.dataSource.destroy();
    const res = await request(t.http).get('/health').expect(503);
    expect(res.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } }, details: { database: { status: 'down' } } });
    const ready = await request(t.http).get('/health/ready').expect(503);
    expect(ready.body.error.database.status).toBe('down');
    // Liveness does not depend on the database: Kubernetes must not restart a pod for a database outage.
    await request(t.http).get('/health/live').expect(200);
  });
});

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
