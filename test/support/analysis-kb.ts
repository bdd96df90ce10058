import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validateEnvironment } from '../../src/config/environment.js';
import { KnowledgeBaseService } from '../../src/knowledge-base/knowledge-base.service.js';
import { SHIPPED_KNOWLEDGE_BASE } from './test-app.js';

export { SHIPPED_KNOWLEDGE_BASE };

export interface TempFolder {
  dir: string;
  /** Writes `text` to `relativePath` under the folder, creating subfolders. */
  write(relativePath: string, text: string): string;
  remove(relativePath: string): void;
  drop(): void;
}

function folderAt(dir: string): TempFolder {
  return {
    dir,
    write: (relativePath, text) => {
      const path = join(dir, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove: (relativePath) => rmSync(join(dir, relativePath), { force: true }),
    drop: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An empty scratch knowledge-base folder, optionally filled with `files` (path → text). */
export function tempKnowledgeBase(files: Record<string, string> = {}): TempFolder {
  const folder = folderAt(mkdtempSync(join(tmpdir(), 'ai-support-kb-')));
  for (const [path, text] of Object.entries(files)) folder.write(path, text);
  return folder;
}

/** A scratch copy of the shipped knowledge-base/ folder, to change without touching the real one. */
export function copyOfShippedKnowledgeBase(): TempFolder {
  const root = mkdtempSync(join(tmpdir(), 'ai-support-kb-copy-'));
  const dir = join(root, 'knowledge-base');
  cpSync(SHIPPED_KNOWLEDGE_BASE, dir, { recursive: true });
  const folder = folderAt(dir);
  return { ...folder, drop: () => rmSync(root, { recursive: true, force: true }) };
}

/** A KnowledgeBaseService outside Nest, configured the way the app configures it, loaded. */
export async function loadedKnowledgeBaseService(dir: string): Promise<KnowledgeBaseService> {
  const service = new KnowledgeBaseService(validateEnvironment({ KNOWLEDGE_BASE_DIR: dir, KNOWLEDGE_BASE_WATCH: 'false' }));
  await service.reload();
  return service;
}

