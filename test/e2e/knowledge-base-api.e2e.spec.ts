import request from 'supertest';
import { copyOfShippedKnowledgeBase, type TempFolder } from '../support/analysis-kb.js';
import { createTestDatabase, type TestDatabase, testDatabases } from '../support/databases.js';
import { SHIPPED_KNOWLEDGE_BASE, startTestApp, type TestApp } from '../support/test-app.js';

/** GET /api/knowledge-base/search, the admin key, POST /api/knowledge-base/reload and reload on file change. */

const ADMIN_KEY = 'kb-admin-key-0123456789abcdef';
const auth = { Authorization: `Bearer ${ADMIN_KEY}` };

interface Hit {
  id: string;
  title: string;
  score: number;
  snippet: string;
}

/** Polls `probe` until it returns a value (not undefined), for changes the service picks up in the background. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 6_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ARTICLE = (title: string, text: string) => `---\ntitle: ${title}\ntags: [новинка]\n---\n# ${title}\n\n${text}\n`;

describe.each(testDatabases())('knowledge-base API on %s', (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await database?.drop();
  });

  describe('search, behind ADMIN_API_KEY', () => {
    let t: TestApp;
    const search = (query: Record<string, string | number>) => request(t.http).get('/api/knowledge-base/search').query(query).set(auth);

    beforeAll(async () => {
      t = await startTestApp({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, KNOWLEDGE_BASE_DIR: SHIPPED_KNOWLEDGE_BASE });
    });

    afterAll(async () => {
      await t?.close();
    });

    it('answers [{id, title, score, snippet}], best first, at most `limit`', async () => {
      const res = await search({ q: 'как вернуть товар в личном кабинете', limit: 3 }).expect(200);
      const hits = res.body as Hit[];
      expect(hits).toHaveLength(3);
      for (const hit of hits) {
        expect(Object.keys(hit).sort()).toEqual(['id', 'score', 'snippet', 'title']);
        expect(hit).toEqual({ id: expect.any(String), title: expect.any(String), score: expect.any(Number), snippet: expect.any(String) });
        expect(hit.snippet.length).toBeGreaterThan(0);
      }
      expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
      expect(hits[0].id).toBe('returns/how-to-return');
    });

    it('returns five hits by default and up to 50 on request', async () => {
      expect((await search({ q: 'заказ' }).expect(200)).body).toHaveLength(5);
      const many = (await search({ q: 'заказ', limit: 50 }).expect(200)).body as Hit[];
      expect(many.length).toBeGreaterThan(5);
      expect(many.length).toBeLessThanOrEqual(50);
      expect(new Set(many.map((h) => h.id)).size).toBe(many.length);
    });

    it('finds articles written in another grammatical case', async () => {
      const hits = (await search({ q: 'личном кабинете', limit: 5 }).expect(200)).body as Hit[];
      expect(hits.map((h) => h.id)).toContain('account/registration-and-login');
      const delivery = (await search({ q: 'доставкой курьером', limit: 1 }).expect(200)).body as Hit[];
      expect(delivery[0]).toMatchObject({ id: 'delivery/delivery-options', title: 'Способы, стоимость и сроки доставки' });
      expect(delivery[0].snippet.toLowerCase()).toMatch(/доставк|курьер/);
    });

    it('answers an empty list when nothing matches', async () => {
      expect((await search({ q: 'синхрофазотрон' }).expect(200)).body).toEqual([]);
    });

    it.each([
      ['q is missing', {}, 'q'],
      ['q is empty', { q: '' }, 'q'],
      ['q is too long', { q: 'а'.repeat(1001) }, 'q'],
      ['limit is 0', { q: 'возврат', limit: '0' }, 'limit'],
      ['limit is 51', { q: 'возврат', limit: '51' }, 'limit'],
      ['limit is abc', { q: 'возврат', limit: 'abc' }, 'limit'],
      ['limit is 1.5', { q: 'возврат', limit: '1.5' }, 'limit'],
    ])('answers 400 naming the field when %s', async (_case, query, field) => {
      const res = await search(query).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      const fields = res.body.errors.map((e: { field: string }) => e.field) as string[];
      expect(fields.length).toBeGreaterThan(0);
      expect(new Set(fields)).toEqual(new Set([field]));
      expect(res.body.message).toContain(field);
    });

    it('answers 401 without the bearer key, or with a wrong one, on every knowledge-base route', async () => {
      const missing = await request(t.http).get('/api/knowledge-base/search').query({ q: 'возврат' }).expect(401);
      expect(missing.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.stringify(missing.body)).not.toContain(ADMIN_KEY);
      await request(t.http).get('/api/knowledge-base/search').query({ q: 'возврат' }).set('Authorization', 'Bearer wrong-key-wrong-key-1234').expect(401);
      await request(t.http).get('/api/knowledge-base/search').query({ q: 'возврат' }).set('Authorization', `Basic ${ADMIN_KEY}`).expect(401);
      await request(t.http).get('/api/knowledge-base').expect(401);
      await request(t.http).post('/api/knowledge-base/reload').expect(401);
      await request(t.http).post('/api/knowledge-base/reload').set(auth).expect(200);
    });
  });

  describe('POST /api/knowledge-base/reload (KNOWLEDGE_BASE_WATCH=false)', () => {
    let t: TestApp;
    let folder: TempFolder;
    const hitsFor = async (q: string) => (await request(t.http).get('/api/knowledge-base/search').query({ q }).expect(200)).body as Hit[];

    beforeAll(async () => {
      folder = copyOfShippedKnowledgeBase();
      t = await startTestApp({ DATABASE_URL: database.url, KNOWLEDGE_BASE_DIR: folder.dir, KNOWLEDGE_BASE_WATCH: 'false' });
      await hitsFor('возврат'); // the first load is done
    });

    afterAll(async () => {
      await t?.close();
      folder?.drop();
    });

    it('picks up a new article on reload, and only then', async () => {
      const before = (await request(t.http).get('/api/knowledge-base').expect(200)).body as { articles: number };
      expect(before.articles).toBeGreaterThanOrEqual(15);
      expect(await hitsFor('телепортацией')).toEqual([]);

      folder.write('delivery/teleport.md', ARTICLE('Доставка телепортацией', 'Телепортация доступна только в Подольске и занимает одну секунду.'));
      expect(await hitsFor('телепортацией')).toEqual([]);

      const reloaded = await request(t.http).post('/api/knowledge-base/reload').expect(200);
      expect(reloaded.body).toMatchObject({ loaded: true, articles: before.articles + 1, warnings: [], loadedAt: expect.any(String) });
      const [hit] = await hitsFor('телепортация');
      expect(hit).toMatchObject({ id: 'delivery/teleport', title: 'Доставка телепортацией' });
      expect(hit.snippet).toMatch(/Телепортация/);

      folder.remove('delivery/teleport.md');
      await request(t.http).post('/api/knowledge-base/reload').expect(200);
      expect(await hitsFor('телепортацией')).toEqual([]);
    });
  });

  describe('reload on file change (KNOWLEDGE_BASE_WATCH=true)', () => {
    let t: TestApp;
    let folder: TempFolder;
    const hitsFor = async (q: string) => (await request(t.http).get('/api/knowledge-base/search').query({ q }).expect(200)).body as Hit[];

    beforeAll(async () => {
      folder = copyOfShippedKnowledgeBase();
      t = await startTestApp({ DATABASE_URL: database.url, KNOWLEDGE_BASE_DIR: folder.dir, KNOWLEDGE_BASE_WATCH: 'true' });
      await hitsFor('возврат'); // the first load is done
    });

    afterAll(async () => {
      await t?.close();
      folder?.drop();
    });

    it('serves a new file without a reload call', async () => {
      expect(await hitsFor('дирижаблем')).toEqual([]);
      folder.write('delivery/airship.md', ARTICLE('Доставка дирижаблем', 'Крупногабаритные палатки мы доставляем дирижаблем по выходным.'));
      const hits = await eventually(async () => {
        const found = await hitsFor('дирижабль');
        return found.length ? found : undefined;
      }, 'the new article to be searchable');
      expect(hits[0]).toMatchObject({ id: 'delivery/airship', title: 'Доставка дирижаблем' });
    });

    it('skips a broken file added later and keeps serving the rest', async () => {
      folder.write('broken.md', '---\ntitle: [не закрыто\n---\nДирижабль сломался.\n');
      const status = await eventually(async () => {
        const res = await request(t.http).get('/api/knowledge-base').expect(200);
        return (res.body.warnings as string[]).some((w) => w.startsWith('broken:')) ? (res.body as { articles: number; warnings: string[] }) : undefined;
      }, 'the broken file to be reported');
      expect(status.warnings).toEqual([expect.stringMatching(/^broken: skipped, front matter is not valid YAML/)]);
      expect(status.articles).toBeGreaterThanOrEqual(16);

      expect((await hitsFor('дирижабль')).map((h) => h.id)).toEqual(['delivery/airship']);
      expect((await hitsFor('двойное списание'))[0].id).toBe('payment/payment-problems');
    });

    it('drops a deleted file', async () => {
      expect((await hitsFor('обменять на другой размер')).map((h) => h.id)).toContain('returns/size-exchange');
      folder.remove('returns/size-exchange.md');
      await eventually(async () => {
        const ids = (await hitsFor('обменять на другой размер')).map((h) => h.id);
        return ids.includes('returns/size-exchange') ? undefined : ids;
      }, 'the deleted article to disappear');
    });
  });
});
