/**
 * An in-memory BM25 index over analysed documents with two fields: a short `title` field (title,
 * heading, tags) that counts `titleWeight` times, and the body. Postings are typed arrays, so ten
 * thousand articles take a few megabytes and a query touches only the postings of its terms.
 */

export interface IndexableDocument {
  titleTerms: string[];
  bodyTerms: string[];
}

export interface ScoredDocument {
  doc: number;
  score: number;
}

interface Postings {
  docs: Uint32Array;
  tfs: Float32Array;
}

const K1 = 1.2;
const B = 0.75;

export class Bm25Index {
  private readonly postings = new Map<string, Postings>();
  private readonly lengths: Float32Array;
  private readonly averageLength: number;
  private readonly scores: Float64Array;

  constructor(
    documents: readonly IndexableDocument[],
    private readonly titleWeight = 3,
  ) {
    this.lengths = new Float32Array(documents.length);
    this.scores = new Float64Array(documents.length);
    const building = new Map<string, { docs: number[]; tfs: number[] }>();
    let totalLength = 0;

    documents.forEach((document, doc) => {
      const frequencies = new Map<string, number>();
      for (const term of document.bodyTerms) frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
      for (const term of document.titleTerms) frequencies.set(term, (frequencies.get(term) ?? 0) + titleWeight);
      const length = document.bodyTerms.length + titleWeight * document.titleTerms.length;
      this.lengths[doc] = length;
      totalLength += length;
      for (const [term, tf] of frequencies) {
        let list = building.get(term);
        if (!list) building.set(term, (list = { docs: [], tfs: [] }));
        list.docs.push(doc);
        list.tfs.push(tf);
      }
    });

    for (const [term, list] of building) {
      this.postings.set(term, { docs: Uint32Array.from(list.docs), tfs: Float32Array.from(list.tfs) });
    }
    this.averageLength = documents.length ? totalLength / documents.length : 1;
  }

  get size(): number {
    return this.lengths.length;
  }

  get vocabularySize(): number {
    return this.postings.size;
  }

  /** How many documents contain `term`. */
  documentFrequency(term: string): number {
    return this.postings.get(term)?.docs.length ?? 0;
  }

  /** Inverse document frequency (BM25's, always positive). */
  idf(term: string): number {
    const df = this.documentFrequency(term);
    return Math.log(1 + (this.size - df + 0.5) / (df + 0.5));
  }

  /**
   * Best `limit` documents for weighted query terms, best first. Documents matching no term are
   * never returned.
   */
  search(query: ReadonlyMap<string, number>, limit: number): ScoredDocument[] {
    const touched: number[] = [];
    const scores = this.scores;
    for (const [term, weight] of query) {
      const postings = this.postings.get(term);
      if (!postings) continue;
      const idf = this.idf(term) * weight;
      const { docs, tfs } = postings;
      for (let i = 0; i < docs.length; i++) {
        const doc = docs[i];
        const tf = tfs[i];
        const norm = K1 * (1 - B + (B * this.lengths[doc]) / this.averageLength);
        if (scores[doc] === 0) touched.push(doc);
        scores[doc] += (idf * (tf * (K1 + 1))) / (tf + norm);
      }
    }
    const results = selectTop(touched, scores, limit);
    for (const doc of touched) scores[doc] = 0;
    return results;
  }
}

/** The `limit` highest-scoring of `candidates`, best first (ties: lower document number first). */
function selectTop(candidates: number[], scores: Float64Array, limit: number): ScoredDocument[] {
  if (limit <= 0 || candidates.length === 0) return [];
  // A small sorted buffer beats sorting thousands of candidates when only a handful are wanted.
  const top: ScoredDocument[] = [];
  for (const doc of candidates) {
    const score = scores[doc];
    if (top.length === limit && score <= top[top.length - 1].score) continue;
    let i = top.length;
    while (i > 0 && (top[i - 1].score < score || (top[i - 1].score === score && top[i - 1].doc > doc))) i--;
    top.splice(i, 0, { doc, score });
    if (top.length > limit) top.pop();
  }
  return top;
}
