import { stemmer as englishStem } from '@orama/stemmers/english';
import { stemmer as russianStem } from '@orama/stemmers/russian';
import { ENGLISH_STOP_WORDS, RUSSIAN_STOP_WORDS } from './stop-words.js';

const WORD = /[\p{L}\p{N}]+(?:[-'’][\p{L}\p{N}]+)*/gu;
const CYRILLIC = /[а-я]/;
const LATIN = /[a-z]/;
const MAX_WORD_LENGTH = 40;

/** Lower case, ё → е, typographic apostrophes unified: the same spelling for documents and queries. */
export function normalizeText(text: string): string {
  return text.toLowerCase().replace(/ё/g, 'е').replace(/’/g, "'");
}

/**
 * The one analyzer of the knowledge base, used for articles and queries alike: normalise, split
 * into words, drop stop words, then Snowball-stem each word in its own script's language, so
 * «личном кабинете» and «личный кабинет» meet at «личн кабинет».
 */
export function analyze(text: string): string[] {
  const terms: string[] = [];
  for (const match of normalizeText(text).matchAll(WORD)) {
    const term = stemWord(match[0]);
    if (term) terms.push(term);
  }
  return terms;
}

/**
 * Snowball keeps Russian fleeting vowels apart (денег/деньги, ошибок/ошибка, день/дня), so a query in
 * one form would miss articles in the other. The words support mail is full of are mapped by hand.
 */
const IRREGULAR_STEMS: Record<string, string> = {
  денег: 'деньг',
  ошибок: 'ошибк',
  звонок: 'звонк',
  заем: 'займ',
  // «день» itself is a stop word (the greeting «добрый день» is in nearly every e-mail); its other
  // forms carry the meaning («14 дней», «в течение дня»).
  дня: 'дн',
  дней: 'дн',
  дни: 'дн',
  дню: 'дн',
  днем: 'дн',
  дням: 'дн',
  днями: 'дн',
  днях: 'дн',
};

const stemCache = new Map<string, string | null>();
const STEM_CACHE_LIMIT = 200_000;

/** Stems one normalised word; null for stop words and noise. Cached: the same words recur constantly. */
export function stemWord(word: string): string | null {
  const cached = stemCache.get(word);
  if (cached !== undefined) return cached;
  const stem = computeStem(word);
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
  stemCache.set(word, stem);
  return stem;
}

function computeStem(word: string): string | null {
  if (word.length > MAX_WORD_LENGTH) return null;
  if (/^\d+$/.test(word)) return word.length >= 2 ? word : null;
  if (word.length < 2) return null;
  if (CYRILLIC.test(word)) {
    if (RUSSIAN_STOP_WORDS.has(word)) return null;
    const irregular = IRREGULAR_STEMS[word];
    if (irregular) return irregular;
    // Hyphenated words (интернет-магазин) are stemmed on their last part only.
    const dash = word.lastIndexOf('-');
    return dash > 0 ? `${word.slice(0, dash)}-${russianStem(word.slice(dash + 1))}` : russianStem(word);
  }
  if (LATIN.test(word)) {
    if (ENGLISH_STOP_WORDS.has(word)) return null;
    return englishStem(word.replace(/'s$/, ''));
  }
  return word;
}
