import { type FSWatcher, watch } from 'node:fs';
import { resolve } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AsyncLock } from '../common/async-lock.js';
import { AppConfig } from '../config/app-config.js';
import { type KnowledgeArticle, type KnowledgeSection, loadKnowledgeBase } from './article-loader.js';
import { Bm25Index } from './bm25-index.js';
import { analyze, normalizeText, stemWord } from './text-analyzer.js';

export interface KnowledgeSearchHit {
  id: string;
  title: string;
  score: number;
  snippet: string;
}

/** An article chosen for a prompt, with the part of it that matched best. */
export interface RetrievedArticle {
  id: string;
  title: string;
  score: number;
  /** Plain text given to the AI: the whole article, or its best sections when it is long. */
  content: string;
}

export interface KnowledgeBaseStatus {
  loaded: boolean;
  articles: number;
  sections: number;
  loadedAt: string | null;
  warnings: string[];
}

/** How an e-mail becomes a query: at most this many distinct stems, the most telling ones. */
export const MAX_QUERY_TERMS = 20;
/** Only the start of the body: the question is there; the rest is detail, quotes and signatures. */
export const QUERY_BODY_CHARS = 1000;
const SUBJECT_WEIGHT = 2;
const SNIPPET_CHARS = 220;
const ARTICLE_CONTENT_CHARS = 3000;
const RELOAD_DEBOUNCE_MS = 300;

/** What the index keeps of an article: the Markdown body lives on only in its sections' text. */
interface IndexedArticle {
  id: string;
  title: string;
  /** Its sections' positions in Snapshot.sections, in article order. */
  sections: number[];
}

interface Snapshot {
  articles: Map<string, IndexedArticle>;
  sections: KnowledgeSection[];
  index: Bm25Index;
  loadedAt: Date;
  warnings: string[];
}

/**
 * The knowledge base: Markdown articles read from KNOWLEDGE_BASE_DIR into an in-memory BM25 index
 * (the same in every process, whichever database is configured). Reloads on file changes and on
 * demand; a failed reload keeps the previous index serving.
 */
@Injectable()
export class KnowledgeBaseService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(KnowledgeBaseService.name);
  private readonly reloadLock = new AsyncLock();
  private snapshot: Snapshot | null = null;
  private firstLoad: Promise<void> | null = null;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly dir: string;

  constructor(private readonly config: AppConfig) {
    this.dir = resolve(config.knowledgeBase.dir);
  }

  onApplicationBootstrap(): void {
    // Loading does not hold up start-up: readiness stays false until the index is built.
    this.firstLoad = this.reload().then(() => undefined);
    if (this.config.knowledgeBase.watch) this.startWatching();
  }

  onModuleDestroy(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
  }

  /** Resolves once the first load has finished (successfully or not). */
  async whenLoaded(): Promise<void> {
    if (!this.firstLoad) this.firstLoad = this.reload().then(() => undefined);
    await this.firstLoad;
  }

  status(): KnowledgeBaseStatus {
    const snapshot = this.snapshot;
    return {
      loaded: snapshot !== null,
      articles: snapshot?.articles.size ?? 0,
      sections: snapshot?.sections.length ?? 0,
      loadedAt: snapshot?.loadedAt.toISOString() ?? null,
      warnings: snapshot?.warnings ?? [],
    };
  }

  /** Re-reads the folder and swaps the index in one step. Concurrent calls run one after another. */
  reload(): Promise<KnowledgeBaseStatus> {
    return this.reloadLock.run(async () => {
      const started = performance.now();
      try {
        const loaded = await loadKnowledgeBase(this.dir);
        const index = new Bm25Index(
          loaded.sections.map((section) => ({
            titleTerms: analyze([section.articleTitle, section.heading ?? '', section.tags.join(' ')].join('\n')),
            bodyTerms: analyze(section.text),
          })),
        );
        this.snapshot = {
          articles: indexArticles(loaded.articles, loaded.sections),
          sections: loaded.sections,
          index,
          loadedAt: new Date(),
          warnings: loaded.warnings,
        };
        for (const warning of loaded.warnings) this.logger.warn({ msg: 'knowledge base file skipped', detail: warning });
        this.logger.log({
          msg: 'knowledge base loaded',
          dir: this.dir,
          articles: loaded.articles.length,
          sections: loaded.sections.length,
          terms: index.vocabularySize,
          ms: Math.round(performance.now() - started),
        });
      } catch (error) {
        if (this.snapshot) {
          this.logger.error({ msg: 'knowledge base reload failed; the previous index keeps serving', err: String(error) });
        } else {
          // Nothing to keep at the first load: serve an empty index (every ticket is then
          // escalated, nothing being grounded) and say why, rather than never becoming ready.
          this.logger.error({ msg: 'knowledge base could not be loaded; serving none', dir: this.dir, err: String(error) });
          this.snapshot = { articles: new Map(), sections: [], index: new Bm25Index([]), loadedAt: new Date(), warnings: [String(error instanceof Error ? error.message : error)] };
        }
      }
      return this.status();
    });
  }

  /** Free-text search (the API): every distinct stem of `query` counts once. */
  search(query: string, limit: number): KnowledgeSearchHit[] {
    const snapshot = this.snapshot;
    if (!snapshot) return [];
    const terms = new Map<string, number>();
    for (const term of analyze(query).slice(0, 64)) terms.set(term, 1);
    return this.rank(snapshot, terms, limit).map(({ article, score, section }) => ({
      id: article.id,
      title: article.title,
      score: round(score),
      snippet: snippetOf(snapshot.sections[section].text, terms),
    }));
  }

  /**
   * The articles to put in the prompt for an e-mail. The query is built from the subject and the
   * start of the cleaned body as at most MAX_QUERY_TERMS weighted stems: a whole e-mail as a
   * query is slow and ranks worse.
   */
  findForEmail(subject: string, body: string, limit: number): RetrievedArticle[] {
    const snapshot = this.snapshot;
    if (!snapshot) return [];
    const terms = this.emailQuery(subject, body);
    return this.rank(snapshot, terms, limit).map(({ article, score, sections }) => ({
      id: article.id,
      title: article.title,
      score: round(score),
      content: contentFor(snapshot, article, sections),
    }));
  }

  /** The weighted stems an e-mail is searched with (exposed for tests and the bench). */
  emailQuery(subject: string, body: string): Map<string, number> {
    const snapshot = this.snapshot;
    const weights = new Map<string, number>();
    const add = (text: string, weight: number) => {
      for (const term of analyze(text)) weights.set(term, (weights.get(term) ?? 0) + weight);
    };
    add(subject, SUBJECT_WEIGHT);
    add(body.slice(0, QUERY_BODY_CHARS), 1);
    if (!snapshot) return new Map([...weights].slice(0, MAX_QUERY_TERMS));
    // Words no article contains cannot help; among the rest, rare words tell most.
    const ranked = [...weights]
      .filter(([term]) => snapshot.index.documentFrequency(term) > 0)
      .map(([term, weight]) => ({ term, weight: Math.log1p(weight), rank: Math.log1p(weight) * snapshot.index.idf(term) }))
      .sort((a, b) => b.rank - a.rank)
      .slice(0, MAX_QUERY_TERMS);
    return new Map(ranked.map(({ term, weight }) => [term, weight]));
  }

  /** Sections ranked, then folded into articles (an article scores as its best section). */
  private rank(snapshot: Snapshot, terms: ReadonlyMap<string, number>, limit: number) {
    if (terms.size === 0 || limit <= 0) return [];
    const hits = snapshot.index.search(terms, Math.max(limit * 4, 16));
    const byArticle = new Map<string, { article: IndexedArticle; score: number; section: number; sections: number[] }>();
    for (const hit of hits) {
      const section = snapshot.sections[hit.doc];
      const entry = byArticle.get(section.articleId);
      if (entry) {
        entry.sections.push(hit.doc);
      } else {
        const article = snapshot.articles.get(section.articleId)!;
        byArticle.set(section.articleId, { article, score: hit.score, section: hit.doc, sections: [hit.doc] });
      }
    }
    return [...byArticle.values()].slice(0, limit);
  }

  private startWatching(): void {
    try {
      this.watcher = watch(this.dir, { recursive: true, persistent: false }, (_event, file) => {
        if (file && !/\.md$/i.test(String(file)) && /\.[a-z0-9]+$/i.test(String(file))) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.debounce = null;
          void this.reload();
        }, RELOAD_DEBOUNCE_MS);
      });
      this.watcher.on('error', (error) => {
        this.logger.warn({ msg: 'knowledge base watcher stopped; use POST /api/knowledge-base/reload', err: String(error) });
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (error) {
      this.logger.warn({ msg: 'cannot watch the knowledge base folder; reload it through the API', err: String(error) });
    }
  }
}

function contentFor(snapshot: Snapshot, article: IndexedArticle, sectionIds: number[]): string {
  let content: string;
  if (article.sections.length <= 1) {
    content = snapshot.sections[article.sections[0]]?.text ?? '';
  } else {
    // A long article: its three best sections (sectionIds come best first), in the article's own order.
    const chosen = [...new Set(sectionIds)].slice(0, 3).sort((a, b) => a - b);
    content = chosen
      .map((id) => snapshot.sections[id])
      .map((s) => (s.heading ? `${s.heading}\n${s.text}` : s.text))
      .join('\n\n');
  }
  return content.length > ARTICLE_CONTENT_CHARS ? `${content.slice(0, ARTICLE_CONTENT_CHARS).trimEnd()}…` : content;
}

function indexArticles(articles: KnowledgeArticle[], sections: KnowledgeSection[]): Map<string, IndexedArticle> {
  const indexed = new Map<string, IndexedArticle>(articles.map((a) => [a.id, { id: a.id, title: a.title, sections: [] }]));
  sections.forEach((section, position) => indexed.get(section.articleId)?.sections.push(position));
  return indexed;
}

/** A passage around the first word that matched, cut at word boundaries. */
function snippetOf(text: string, terms: ReadonlyMap<string, number>): string {
  const normalized = normalizeText(text);
  let position = -1;
  for (const match of normalized.matchAll(/[\p{L}\p{N}]+/gu)) {
    const stem = stemWord(match[0]);
    if (stem && terms.has(stem)) {
      position = match.index;
      break;
    }
  }
  const compact = (s: string) => s.replace(/\s+/g, ' ').trim();
  if (position < 0 || text.length <= SNIPPET_CHARS) return compact(text.slice(0, SNIPPET_CHARS)) + (text.length > SNIPPET_CHARS ? '…' : '');
  let start = Math.max(0, position - 60);
  if (start > 0) start = text.indexOf(' ', start) + 1 || start;
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length) end = text.lastIndexOf(' ', end) > start ? text.lastIndexOf(' ', end) : end;
  return `${start > 0 ? '…' : ''}${compact(text.slice(start, end))}${end < text.length ? '…' : ''}`;
}

function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}
