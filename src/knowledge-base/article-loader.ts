import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KnowledgeArticle {
  /** Path under the knowledge-base folder without `.md`, with `/` separators. */
  id: string;
  title: string;
  tags: string[];
  /** Markdown body without the front matter. */
  body: string;
}

/** A searchable part of an article: the whole of a short one, or one heading's part of a long one. */
export interface KnowledgeSection {
  articleId: string;
  articleTitle: string;
  tags: string[];
  heading: string | null;
  /** Plain text (Markdown syntax removed). */
  text: string;
}

export interface LoadedKnowledgeBase {
  articles: KnowledgeArticle[];
  sections: KnowledgeSection[];
  /** One line per skipped or suspicious file, for the log. */
  warnings: string[];
}

/** Articles longer than this are split at their `##`/`###` headings. */
export const SECTION_SPLIT_THRESHOLD = 1500;
const MAX_FILE_BYTES = 1024 * 1024;
const READ_BATCH = 64;

/**
 * Reads every `*.md` under `dir` (recursively). Bad files are skipped with a warning, never thrown;
 * a folder that cannot be read at all throws KnowledgeBaseUnreadableError.
 */
export async function loadKnowledgeBase(dir: string): Promise<LoadedKnowledgeBase> {
  const warnings: string[] = [];
  const articles: KnowledgeArticle[] = [];
  const paths = await listMarkdownFiles(dir, warnings);
  // Files are read a batch at a time: one by one is slow for thousands, all at once exhausts descriptors.
  for (let start = 0; start < paths.length; start += READ_BATCH) {
    const batch = await Promise.all(paths.slice(start, start + READ_BATCH).map((path) => readArticle(dir, path)));
    for (const result of batch) {
      if ('warning' in result) warnings.push(result.warning);
      else articles.push(result);
    }
  }
  articles.sort((a, b) => a.id.localeCompare(b.id));
  return { articles, sections: articles.flatMap(splitIntoSections), warnings };
}

async function readArticle(dir: string, path: string): Promise<KnowledgeArticle | { warning: string }> {
  const id = relative(dir, path).split(sep).join('/').replace(/\.md$/i, '');
  try {
    const info = await stat(path);
    if (info.size > MAX_FILE_BYTES) return { warning: `${id}: skipped, larger than 1 MB` };
    const article = parseArticle(id, await readFile(path, 'utf8'));
    return 'problem' in article ? { warning: `${id}: skipped, ${article.problem}` } : article;
  } catch (error) {
    return { warning: `${id}: skipped, ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The knowledge-base folder itself cannot be read (missing, no permission): nothing was loaded. */
export class KnowledgeBaseUnreadableError extends Error {
  constructor(dir: string, cause: unknown) {
    super(`${dir} cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
    this.name = 'KnowledgeBaseUnreadableError';
  }
}

/**
 * Every `*.md` under `dir`, names starting with a dot left out. Symbolic links are followed, to
 * files and to folders: a Kubernetes ConfigMap mounted as the folder is all links (`returns.md ->
 * ..data/returns.md`, `..data -> ..2026_12_01…`), its real files inside the dot-folders.
 */
async function listMarkdownFiles(dir: string, warnings: string[]): Promise<string[]> {
  const found: string[] = [];
  const visited = new Set<string>();
  const walk = async (folder: string, top: boolean): Promise<void> => {
    let entries;
    try {
      const real = await realpath(folder);
      if (visited.has(real)) return; // a link back up the tree
      visited.add(real);
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (top) throw new KnowledgeBaseUnreadableError(dir, error);
      warnings.push(`${relative(dir, folder)}: folder skipped, cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path);
          isDirectory = target.isDirectory();
          isFile = target.isFile();
        } catch {
          warnings.push(`${relative(dir, path)}: skipped, a link to nothing`);
          continue;
        }
      }
      if (isDirectory) await walk(path, false);
      else if (isFile && /\.md$/i.test(entry.name)) found.push(path);
    }
  };
  await walk(dir, true);
  return found;
}

/** Parses one file; returns the reason instead of throwing when the file is unusable. */
export function parseArticle(id: string, source: string): KnowledgeArticle | { problem: string } {
  let text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let title: string | undefined;
  let tags: string[] = [];

  const frontMatter = /^---[ \t]*\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(text);
  if (text.startsWith('---\n') && !frontMatter) return { problem: 'front matter is not closed with ---' };
  if (frontMatter) {
    let data: unknown;
    try {
      data = parseYaml(frontMatter[1]);
    } catch (error) {
      return { problem: `front matter is not valid YAML (${firstLine(error)})` };
    }
    if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
      return { problem: 'front matter must be a YAML mapping (title: …, tags: […])' };
    }
    const fields = (data ?? {}) as Record<string, unknown>;
    if (fields.title !== undefined && typeof fields.title !== 'string' && typeof fields.title !== 'number') {
      return { problem: 'front matter title must be text' };
    }
    if (fields.title !== undefined) title = String(fields.title).trim() || undefined;
    if (Array.isArray(fields.tags)) tags = fields.tags.map(String).map((t) => t.trim()).filter(Boolean);
    else if (typeof fields.tags === 'string') tags = fields.tags.split(',').map((t) => t.trim()).filter(Boolean);
    text = text.slice(frontMatter[0].length);
  }

  if (!title) {
    const heading = /^#[ \t]+(.+?)[ \t#]*$/m.exec(text);
    title = heading ? heading[1].trim() : humanize(id);
  }
  if (!markdownToText(text).trim()) return { problem: 'has no text' };
  return { id, title, tags, body: text.trim() };
}

/** Short articles stay whole; long ones are split at `##`/`###` so a query lands on the right part. */
export function splitIntoSections(article: KnowledgeArticle): KnowledgeSection[] {
  const base = { articleId: article.id, articleTitle: article.title, tags: article.tags };
  const whole = markdownToText(article.body);
  if (whole.length <= SECTION_SPLIT_THRESHOLD || !/^#{2,3}[ \t]+\S/m.test(article.body)) {
    return [{ ...base, heading: null, text: whole }];
  }
  const sections: KnowledgeSection[] = [];
  let heading: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    const text = markdownToText(lines.join('\n')).trim();
    if (text) sections.push({ ...base, heading, text });
  };
  for (const line of article.body.split('\n')) {
    const match = /^#{2,3}[ \t]+(.+?)[ \t#]*$/.exec(line);
    if (match) {
      flush();
      heading = match[1].trim();
      lines = [];
    } else if (!/^#[ \t]+/.test(line)) {
      lines.push(line);
    }
  }
  flush();
  return sections.length ? sections : [{ ...base, heading: null, text: whole }];
}

/** Markdown to readable plain text: for the index, snippets and the prompt. */
export function markdownToText(markdown: string): string {
  return markdown
    .replace(/```[^\n]*\n([\s\S]*?)```/g, '$1')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/^#{1,6}[ \t]+/gm, '')
    .replace(/^[ \t]*>[ \t]?/gm, '')
    .replace(/^[ \t]*[-*+][ \t]+/gm, '• ')
    .replace(/^\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$/gm, '')
    .replace(/\|/g, ' ')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])[*_]([^*_\n]+)[*_](?=[^\w*]|$)/g, '$1$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function humanize(id: string): string {
  const name = id.split('/').pop() ?? id;
  const words = name.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n', 1)[0];
}
