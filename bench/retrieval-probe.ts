import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { validateEnvironment } from '../src/config/environment.js';
import { KnowledgeBaseService } from '../src/knowledge-base/knowledge-base.service.js';
import { benchEmails } from './email-corpus.js';

/**
 * Runs in its own process so its memory is the knowledge base's alone: loads the folder given as
 * argv[2], then times e-mail queries two ways: ours (subject + cleaned start of the body, at most 20
 * weighted stems) and the baseline (the whole e-mail as the query). Prints one JSON line.
 */
Logger.overrideLogger(false);
const dir = process.argv[2];
const queries = Number(process.argv[3] ?? 1000);
const service = new KnowledgeBaseService(validateEnvironment({ KNOWLEDGE_BASE_DIR: dir, KNOWLEDGE_BASE_WATCH: 'false' }));

const started = performance.now();
const status = await service.reload();
const buildMs = performance.now() - started;
global.gc?.();
const rssMb = process.memoryUsage().rss / 1024 / 1024;

const emails = benchEmails(queries, 99);
const time = (run: (subject: string, text: string) => unknown) => {
  const samples: number[] = [];
  for (const email of emails) {
    const t0 = performance.now();
    run(email.subject, email.text);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)], p99: samples[Math.floor(samples.length * 0.99)] };
};
// Warm both paths once (stem cache, JIT) so neither pays the first-call cost in its figures.
time((subject, text) => service.findForEmail(subject, text, 4));
time((subject, text) => service.search(`${subject}\n${text}`, 4));
const ours = time((subject, text) => service.findForEmail(subject, text, 4));
const wholeEmail = time((subject, text) => service.search(`${subject}\n${text}`, 4));

process.stdout.write(
  `${JSON.stringify({ articles: status.articles, sections: status.sections, buildMs, rssMb, ours, wholeEmail })}\n`,
);
