import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('API documentation', () => {
  let database: TestDatabase;
  let t: TestApp;
  let doc: {
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[]; parameters?: unknown[] }>>;
    components: { schemas: Record<string, { properties?: Record<string, { example?: unknown; enum?: unknown[] }> }>; securitySchemes: Record<string, unknown> };
  };

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    t = await startTestApp({ DATABASE_URL: database.url });
    doc = (await request(t.http).get('/docs-json').expect(200)).body;
  });

  afterAll(async () => {
    await t.close();
    await database.drop();
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await request(t.http).get('/docs').expect(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('serves Swagger UI over plain HTTP: its page does not ask the browser to upgrade its requests to https', async () => {
    const res = await request(t.http).get('/docs').expect(200);
    const policy = String(res.headers['content-security-policy']);
    expect(policy).toContain("script-src 'self' 'unsafe-inline'");
    expect(policy).not.toContain('upgrade-insecure-requests');
  });

  it("the API answers with helmet's headers", async () => {
    const res = await request(t.http).get('/health/live').expect(200);
    expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('documents every route', () => {
    expect(Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)).sort()).toEqual([
      'GET /api/knowledge-base',
      'GET /api/knowledge-base/search',
      'GET /api/tickets',
      'GET /api/tickets/{id}',
      'GET /health',
      'GET /health/live',
      'GET /health/ready',
      'PATCH /api/tickets/{id}',
      'POST /api/knowledge-base/reload',
      'POST /api/webhook/email',
    ]);
  });

  it('declares the bearer scheme and uses it on the admin APIs', () => {
    expect(doc.components.securitySchemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/tickets'].get.security).toEqual([{ admin: [] }]);
    expect(doc.paths['/api/knowledge-base/search'].get.security).toEqual([{ admin: [] }]);
  });

  it('documents DTOs with examples and the error answers', () => {
    const ticket = doc.components.schemas.TicketDto;
    expect(ticket.properties?.status).toBeDefined();
    expect(ticket.properties?.customerEmail?.example).toBe('ivan.petrov@example.ru');
    expect(doc.components.schemas.TicketDetailDto.properties?.messages).toBeDefined();
    expect(doc.components.schemas.ErrorBodyDto.properties?.code).toBeDefined();
    const detail = doc.paths['/api/tickets/{id}'].get.responses;
    expect(Object.keys(detail).sort()).toEqual(['200', '400', '401', '404']);
    expect(Object.keys(doc.paths['/api/tickets/{id}'].patch.responses).sort()).toEqual(['200', '400', '401', '404', '409']);
    expect(doc.paths['/api/tickets/{id}'].patch.security).toEqual([{ admin: [] }]);
    expect(doc.components.schemas.ChangeTicketStatusDto.properties?.status).toMatchObject({ enum: ['resolved', 'closed'], example: 'resolved' });
    expect(Object.keys(doc.paths['/health'].get.responses)).toEqual(expect.arrayContaining(['200', '503']));
  });
});
