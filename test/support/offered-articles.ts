import type { ChatRequestBody } from '../peers/gigachat.peer.js';

/**
 * The ids of the knowledge-base articles a prompt offered (`<article id="…">` in the system
 * message): what a model that follows the prompt cites in `used_article_ids`.
 */
export function offeredArticleIds(request: ChatRequestBody): string[] {
  const system = request.messages.find((m) => m.role === 'system')?.content ?? '';
  return [...system.matchAll(/<article id="([^"]*)"/g)].map((match) => match[1]);
}
