import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import axios from 'axios';
import pg from 'pg';
import { type ChatRequestBody, GigaChatPeer, type PeerReply } from '../test/peers/gigachat.peer.js';
import { SmtpPeer } from '../test/peers/smtp.peer.js';
import { TelegramPeer } from '../test/peers/telegram.peer.js';
import { offeredArticleIds } from '../test/support/offered-articles.js';
import { freePort } from '../test/support/service-process.js';
import { benchEmails } from './email-corpus.js';
import { generateKnowledgeBase } from './kb-generator.js';

/**
 * `npm run bench`: every figure is measured next to a baseline run in this same script on this
 * same machine, and reported as a ratio, since absolute numbers on a shared 2-core box vary.
 * Starts its own peers (GigaChat, Telegram, SMTP emulators) and service processes; needs nothing
 * else (PostgreSQL rows run when one answers on BENCH_POSTGRES_URL or 127.0.0.1:5432).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/main.js');
/** The service runs exactly as `npm run start:prod` runs it, Node flags included. */
const START_PROD: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['start:prod'];
const SERVICE_NODE_FLAGS = START_PROD.split(/\s+/).filter((part) => part.startsWith('--'));
const BASELINE = join(ROOT, 'dist-bench/bench/baseline-app.js');
const PROBE = join(ROOT, 'dist-bench/bench/retrieval-probe.js');
const SAMPLE_KB = join(ROOT, 'knowledge-base');
const INGEST_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 20);
const PIPELINE_EMAILS = Number(process.env.BENCH_PIPELINE_EMAILS ?? 1000);
const RETRIEVAL_ARTICLES = Number(process.env.BENCH_RETRIEVAL_ARTICLES ?? 10_000);
const GIGACHAT_LATENCY_MS = 200;
const B2B_IN_FLIGHT = 10;
const CONNECTIONS = 50;
const ADMIN_KEY = 'bench-admin-key-0123456789';
const ALL_BENCHMARKS = ['ingestion', 'pipeline', 'retrieval', 'idle'];

interface Row {
  benchmark: string;
  metric: string;
  project: number;
  baseline: number | null;
  unit: string;
  /** project / baseline, or the reverse for lower-is-better metrics, so > 1 means "better than baseline". */
  ratio: number | null;
  target: string;
  met: boolean | null;
  note?: string;
}

const rows: Row[] = [];

function record(row: Row): void {
  rows.push(row);
  const fmt = (n: number | null) => (n === null ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const met = row.met === null ? '' : row.met ? 'met' : 'MISSED';
  console.log(
    `${row.benchmark.padEnd(26)} ${row.metric.padEnd(30)} ${`${fmt(row.project)} ${row.unit}`.padStart(14)} ${`${fmt(row.baseline)}${row.baseline === null ? '' : ` ${row.unit}`}`.padStart(14)} ${(row.ratio === null ? '—' : `×${row.ratio.toFixed(2)}`).padStart(8)}  ${row.target} ${met}${row.note ? ` (${row.note})` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------
// processes

interface Service {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts `script`; ready once `readyPath` answers (any status when `anyStatus`, else 200). */
async function startProcess(script: string, env: Record<string, string>, readyPath: string, anyStatus = false): Promise<Service> {
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE && script === MAIN ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const flags = script === MAIN ? SERVICE_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, ...profile, script], {
    cwd: mkdtempSync(join(tmpdir(), 'ai-support-bench-')),
    // BENCH_PROFILE=<dir>: the service writes a V8 CPU profile there on exit (--cpu-prof).
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited: ${stderr}`);
    try {
      const res = await axios.get(`${url}${readyPath}`, { validateStatus: () => true, timeout: 1000 });
      if (anyStatus || res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${script} did not become ready: ${stderr}`);
    await sleep(100);
  }
  return {
    child,
    url,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// peers

interface Peers {
  gigachat: GigaChatPeer;
  smtp: SmtpPeer;
  telegram: TelegramPeer;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A decision mix like real mail: mostly answers, some questions back, some escalations. */
function decisionResponder(request: ChatRequestBody): PeerReply {
  const roll = Math.random();
  const decision = roll < 0.6 ? 'full_answer' : roll < 0.8 ? 'need_more_info' : 'escalate_to_human';
  return {
    functionCall: {
      full_name: 'Иван Петров',
      issue_summary: 'Клиент спрашивает о возврате товара',
      decision,
      draft_reply: 'Здравствуйте! Оформить возврат можно в личном кабинете в разделе «Мои заказы» в течение 14 дней.\n\nСлужба поддержки',
      confidence: 0.9,
      language: 'ru',
      used_article_ids: offeredArticleIds(request),
      escalation_reason: decision === 'escalate_to_human' ? 'жалоба' : '',
    },
  };
}

async function startPeers(): Promise<Peers> {
  const gigachat = await GigaChatPeer.start({ scope: 'GIGACHAT_API_B2B', latencyMs: GIGACHAT_LATENCY_MS, responder: decisionResponder });
  const smtp = await SmtpPeer.start();
  const telegram = await TelegramPeer.start();
  return {
    gigachat,
    smtp,
    telegram,
    env: {
      GIGACHAT_AUTH_KEY: gigachat.authKey,
      GIGACHAT_AUTH_URL: gigachat.authUrl,
      GIGACHAT_API_URL: gigachat.apiUrl,
      GIGACHAT_SCOPE: 'GIGACHAT_API_B2B',
      SMTP_URL: smtp.url,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_CHAT_ID: telegram.chatId,
      TELEGRAM_API_URL: telegram.apiUrl,
    },
    close: async () => {
      await Promise.all([gigachat.close(), smtp.close(), telegram.close()]);
    },
  };
}

function serviceEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    KNOWLEDGE_BASE_DIR: SAMPLE_KB,
    KNOWLEDGE_BASE_WATCH: 'false',
    MAIL_FROM: 'Северный Ветер <support@severveter.example>',
    ADMIN_API_KEY: ADMIN_KEY,
    // The rate limiter stays on (its cost is part of the figure) but never trips.
    WEBHOOK_RATE_LIMIT: '1000000',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// load

const EMAILS = benchEmails(2000);
const TEMPLATES = EMAILS.map((email) => JSON.stringify(email));
let sequence = 0;

/** Distinct bodies: each request gets a never-seen Message-ID, so every one is a new ticket. */
function nextBody(run: string): string {
  const i = sequence++;
  return TEMPLATES[i % TEMPLATES.length].replace('__SEQ__', `${run}-${i}`);
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  ok: number;
}

async function load(url: string, run: string, options: { duration?: number; amount?: number }): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}/api/webhook/email`,
    method: 'POST',
    connections: CONNECTIONS,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? INGEST_SECONDS }),
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: nextBody(run) }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    ok: result['2xx'],
  };
}

async function ticketTotal(url: string): Promise<number> {
  const res = await axios.get(`${url}/api/tickets?limit=1`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  return res.data.total as number;
}

/** The ticket count once requests still in flight after the load generator stopped have landed. */
async function settledTicketTotal(url: string): Promise<number> {
  let previous = -1;
  for (;;) {
    const total = await ticketTotal(url);
    if (total === previous) return total;
    previous = total;
    await sleep(300);
  }
}

// ---------------------------------------------------------------------------------------------
// benchmarks

async function ingestion(databases: Array<{ name: string; url: string }>): Promise<void> {
  console.log(`\n# Ingestion: POST /api/webhook/email, ${CONNECTIONS} connections, ${INGEST_SECONDS} s, 2–5 KB Russian e-mails`);
  const baselineApp = await startProcess(BASELINE, {}, '/api/webhook/email', true);
  await load(baselineApp.url, 'warm-baseline', { duration: 3 });
  const baseline = await load(baselineApp.url, 'baseline', {});
  await baselineApp.stop();

  for (const database of databases) {
    const peers = await startPeers();
    const service = await startProcess(MAIN, serviceEnv(database.url, { ...peers.env, PROCESSING_CONCURRENCY: '10' }), '/health/ready');
    await load(service.url, `warm-${database.name}`, { duration: 3 });
    const before = await settledTicketTotal(service.url);
    const project = await load(service.url, database.name, {});
    const stored = (await settledTicketTotal(service.url)) - before;
    await service.stop();
    await peers.close();

    const label = `ingestion (${database.name})`;
    record({ benchmark: label, metric: 'requests/s vs bare route', project: project.rps, baseline: baseline.rps, unit: 'req/s', ratio: project.rps / baseline.rps, target: '≥ 0.5', met: project.rps / baseline.rps >= 0.5 });
    record({ benchmark: label, metric: 'latency p50', project: project.p50, baseline: baseline.p50, unit: 'ms', ratio: baseline.p50 / Math.max(project.p50, 0.01), target: '—', met: null });
    record({ benchmark: label, metric: 'latency p99', project: project.p99, baseline: baseline.p99, unit: 'ms', ratio: baseline.p99 / Math.max(project.p99, 0.01), target: '< 150 ms', met: project.p99 < 150 });
    record({ benchmark: label, metric: 'errors', project: project.errors, baseline: baseline.errors, unit: '', ratio: null, target: '0', met: project.errors === 0 });
    // The load generator stops at its deadline with up to one request per connection in flight:
    // the service stores those too, so stored may exceed the 2xx it counted by at most that many.
    record({
      benchmark: label,
      metric: 'tickets stored vs 2xx answers',
      project: stored,
      baseline: project.ok,
      unit: '',
      ratio: stored / Math.max(project.ok, 1),
      target: `≥ 1 (nothing lost), ≤ +${CONNECTIONS} in flight`,
      met: stored >= project.ok && stored <= project.ok + CONNECTIONS,
      note: 'background analysis ran during the load',
    });
  }
}

async function pipeline(): Promise<void> {
  console.log(`\n# Pipeline: ${PIPELINE_EMAILS} e-mails, GigaChat answering after ${GIGACHAT_LATENCY_MS} ms, B2B (${B2B_IN_FLIGHT} in flight), SMTP + Telegram on loopback`);
  const peers = await startPeers();

  // Baseline: the same number of chat calls straight to the GigaChat peer, 10 at a time.
  const token = (await axios.post(peers.gigachat.authUrl, 'scope=GIGACHAT_API_B2B', {
    headers: { Authorization: `Basic ${peers.gigachat.authKey}`, RqUID: crypto.randomUUID(), 'Content-Type': 'application/x-www-form-urlencoded' },
  })).data.access_token as string;
  const direct = axios.create({ headers: { Authorization: `Bearer ${token}` } });
  let issued = 0;
  const baselineStart = performance.now();
  await Promise.all(
    Array.from({ length: B2B_IN_FLIGHT }, async () => {
      while (issued++ < PIPELINE_EMAILS) {
        await direct.post(`${peers.gigachat.apiUrl}/chat/completions`, {
          model: 'GigaChat',
          messages: [{ role: 'user', content: 'Как вернуть товар?' }],
          temperature: 0.1,
        });
      }
    }),
  );
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  peers.gigachat.reset();

  const dir = mkdtempSync(join(tmpdir(), 'ai-support-bench-db-'));
  const service = await startProcess(MAIN, serviceEnv(`sqlite:${join(dir, 'pipeline.sqlite')}`, { ...peers.env, PROCESSING_CONCURRENCY: '16' }), '/health/ready');
  const started = performance.now();
  const posted = await load(service.url, 'pipeline', { amount: PIPELINE_EMAILS });
  // Done when every reply and notice has been delivered (each ticket ends in exactly one) and the
  // API confirms that no ticket waits. The peers are counted in this process; asking the service
  // every 20 ms instead would add the cost of the polling to the overhead being measured.
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (peers.smtp.mails.length + peers.telegram.messages.length >= posted.ok) {
      const waiting = await axios.get(`${service.url}/api/tickets?limit=1&status=received`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
      const processing = await axios.get(`${service.url}/api/tickets?limit=1&status=processing`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
      if (waiting.data.total === 0 && processing.data.total === 0) break;
    }
    if (Date.now() > deadline) throw new Error('pipeline did not finish in 5 minutes');
    await sleep(20);
  }
  const seconds = (performance.now() - started) / 1000;
  await service.stop();
  rmSync(dir, { recursive: true, force: true });
  const chatCalls = peers.gigachat.stats.chatCalls;
  await peers.close();

  const throughput = PIPELINE_EMAILS / seconds;
  const baselineThroughput = PIPELINE_EMAILS / baselineSeconds;
  const ideal = B2B_IN_FLIGHT / (GIGACHAT_LATENCY_MS / 1000);
  // Per ticket: each GigaChat slot is busy wall·slots/tickets seconds per ticket, of which 200 ms is GigaChat's own.
  const overheadMs = ((seconds * B2B_IN_FLIGHT) / PIPELINE_EMAILS - GIGACHAT_LATENCY_MS / 1000) * 1000;
  const baselineOverheadMs = ((baselineSeconds * B2B_IN_FLIGHT) / PIPELINE_EMAILS - GIGACHAT_LATENCY_MS / 1000) * 1000;
  record({ benchmark: 'pipeline', metric: 'e-mails/s vs direct GigaChat calls', project: throughput, baseline: baselineThroughput, unit: '/s', ratio: throughput / baselineThroughput, target: `≥ ${(ideal * 0.9).toFixed(0)}/s (ideal ${ideal}/s)`, met: throughput >= ideal * 0.9 });
  record({ benchmark: 'pipeline', metric: 'overhead per ticket', project: overheadMs, baseline: baselineOverheadMs, unit: 'ms', ratio: null, target: '< 20 ms', met: overheadMs < 20, note: `${chatCalls} GigaChat calls, ${posted.errors} errors` });
}

async function retrieval(): Promise<void> {
  console.log(`\n# Retrieval: ${RETRIEVAL_ARTICLES} generated Russian articles`);
  const dir = mkdtempSync(join(tmpdir(), 'ai-support-bench-kb-'));
  generateKnowledgeBase(dir, RETRIEVAL_ARTICLES);
  const out = execFileSync(process.execPath, ['--expose-gc', PROBE, dir, '1000'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  rmSync(dir, { recursive: true, force: true });
  const probe = JSON.parse(out.trim().split('\n').pop()!) as {
    articles: number;
    sections: number;
    buildMs: number;
    rssMb: number;
    ours: { p50: number; p99: number };
    wholeEmail: { p50: number; p99: number };
  };
  const bareNode = Number(execFileSync(process.execPath, ['-e', 'setTimeout(() => process.stdout.write(String(process.memoryUsage().rss)), 50)'], { encoding: 'utf8' })) / 1024 / 1024;
  record({ benchmark: 'retrieval', metric: `index build (${probe.articles} articles)`, project: probe.buildMs / 1000, baseline: null, unit: 's', ratio: null, target: '< 10 s', met: probe.buildMs < 10_000, note: `${probe.sections} sections` });
  record({ benchmark: 'retrieval', metric: 'query p50 vs whole-e-mail query', project: probe.ours.p50, baseline: probe.wholeEmail.p50, unit: 'ms', ratio: probe.wholeEmail.p50 / probe.ours.p50, target: '—', met: null });
  record({ benchmark: 'retrieval', metric: 'query p99 vs whole-e-mail query', project: probe.ours.p99, baseline: probe.wholeEmail.p99, unit: 'ms', ratio: probe.wholeEmail.p99 / probe.ours.p99, target: '< 10 ms', met: probe.ours.p99 < 10, note: 'baseline: the e-mail\'s first 64 distinct stems' });
  record({ benchmark: 'retrieval', metric: 'RSS after loading vs bare Node', project: probe.rssMb, baseline: bareNode, unit: 'MB', ratio: bareNode / probe.rssMb, target: '< 300 MB', met: probe.rssMb < 300 });
}

async function idleFootprint(): Promise<void> {
  console.log('\n# Idle footprint: the started service with the sample knowledge base');
  const dir = mkdtempSync(join(tmpdir(), 'ai-support-bench-db-'));
  const service = await startProcess(MAIN, serviceEnv(`sqlite:${join(dir, 'idle.sqlite')}`), '/health/ready');
  const baselineApp = await startProcess(BASELINE, {}, '/api/webhook/email', true);
  await sleep(2000);
  const project = rssMb(service.child.pid!);
  const baseline = rssMb(baselineApp.child.pid!);
  await Promise.all([service.stop(), baselineApp.stop()]);
  rmSync(dir, { recursive: true, force: true });
  record({ benchmark: 'idle footprint', metric: 'RSS vs bare NestJS app', project, baseline, unit: 'MB', ratio: baseline / project, target: '< 150 MB', met: project < 150 });
}

async function postgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `ai_support_bench_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    console.log(`(PostgreSQL not reachable at ${admin.replace(/:[^:@/]*@/, ':***@')}: ${String(error)}; its rows are skipped)`);
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`ai-support benchmarks — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
  console.log(`${'benchmark'.padEnd(26)} ${'metric'.padEnd(30)} ${'project'.padStart(14)} ${'baseline'.padStart(14)} ${'ratio'.padStart(8)}  target`);

  const only = new Set(process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : ALL_BENCHMARKS);
  if (only.has('ingestion')) {
    const sqliteDir = mkdtempSync(join(tmpdir(), 'ai-support-bench-db-'));
    const databases = [{ name: 'SQLite', url: `sqlite:${join(sqliteDir, 'ingest.sqlite')}` }];
    const postgres = await postgresDatabase();
    if (postgres) databases.push({ name: 'PostgreSQL', url: postgres.url });
    try {
      await ingestion(databases);
    } finally {
      rmSync(sqliteDir, { recursive: true, force: true });
      await postgres?.drop();
    }
  }
  if (only.has('pipeline')) await pipeline();
  if (only.has('retrieval')) await retrieval();
  if (only.has('idle')) await idleFootprint();

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    rows,
  };
  // bench/results.json is the last complete run (the README's figures come from it); a subset
  // (BENCH_ONLY) must not replace it with a few rows.
  const complete = ALL_BENCHMARKS.every((name) => only.has(name));
  const file = complete ? 'bench/results.json' : 'bench/results-partial.json';
  writeFileSync(join(ROOT, file), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${file} (${report.durationSeconds} s)`);
}

await main();
