import { replyReferences, replySubject } from '../../src/notifications/reply-headers.js';

/** How many reply prefixes (`Re:`, `RE:`, `Ответ:`, `AW:`…) a subject carries. */
function prefixCount(subject: string): number {
  return (subject.match(/(^|\s)(re|ответ|на|aw|sv)(\[\d+\]|\(\d+\))?\s*:/gi) ?? []).length;
}

/** The byte length of `References: <a> <b> …` as nodemailer writes it (before folding). */
function headerLength(ids: string[]): number {
  return 'References: '.length + ids.map((id) => `<${id}>`).join(' ').length;
}

describe('replySubject', () => {
  it('prefixes Re: and tags the ticket number', () => {
    expect(replySubject('Возврат кроссовок', 42)).toBe('Re: Возврат кроссовок [#42]');
  });

  it.each([
    ['Re: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['RE: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['re:Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['Ответ: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['ОТВЕТ: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['AW: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['Re[2]: Где мой заказ?', 'Re: Где мой заказ? [#7]'],
    ['Re : Где мой заказ?', 'Re: Где мой заказ? [#7]'],
  ])('does not add a second prefix to %j', (subject, expected) => {
    expect(replySubject(subject, 7)).toBe(expected);
  });

  it.each([
    ['Re: Re: Где мой заказ?'],
    ['RE: Re: Где мой заказ?'],
    ['Ответ: Re: Где мой заказ?'],
  ])('a subject with stacked prefixes %j still gets a single Re:', (subject) => {
    const result = replySubject(subject, 7);
    expect(prefixCount(result)).toBe(1);
    expect(result).toBe('Re: Где мой заказ? [#7]');
  });

  it('keeps one ticket tag when the subject already carries it', () => {
    expect(replySubject('Re: Возврат кроссовок [#42]', 42)).toBe('Re: Возврат кроссовок [#42]');
    expect(replySubject('Возврат [#42] кроссовок', 42)).toBe('Re: Возврат [#42] кроссовок');
    const result = replySubject('Ответ: Re: Возврат кроссовок [#42]', 42);
    expect(result.match(/\[#42\]/g)).toHaveLength(1);
  });

  it('another number is not this ticket’s tag', () => {
    expect(replySubject('Re: Заказ [#4]', 42)).toBe('Re: Заказ [#4] [#42]');
    expect(replySubject('Re: Заказ [#421]', 42)).toBe('Re: Заказ [#421] [#42]');
  });

  it('does not take a word that merely starts like a prefix for one', () => {
    expect(replySubject('Refund: заказ 12345', 3)).toBe('Re: Refund: заказ 12345 [#3]');
    expect(replySubject('Research', 3)).toBe('Re: Research [#3]');
    expect(replySubject('Наличие: размер 42', 3)).toBe('Re: Наличие: размер 42 [#3]');
  });

  it('collapses whitespace and names an empty subject', () => {
    expect(replySubject('  Где\r\n\tмой   заказ?  ', 5)).toBe('Re: Где мой заказ? [#5]');
    expect(replySubject('', 5)).toBe('Re: Ваше обращение [#5]');
    expect(replySubject('   ', 5)).toBe('Re: Ваше обращение [#5]');
  });

  it('a bare "Re:" subject gets one prefix and the tag', () => {
    const result = replySubject('Re:', 5);
    expect(prefixCount(result)).toBe(1);
    expect(result).toMatch(/^Re: .*\[#5\]$/);
  });
});

describe('replyReferences', () => {
  it('is the parent’s References followed by the parent’s Message-ID', () => {
    expect(replyReferences(['root@a.example', 'mid@b.example'], 'parent@c.example')).toEqual(['root@a.example', 'mid@b.example', 'parent@c.example']);
  });

  it('is the parent’s Message-ID alone for a first message, and empty without one', () => {
    expect(replyReferences([], 'parent@c.example')).toEqual(['parent@c.example']);
    expect(replyReferences([], null)).toEqual([]);
    expect(replyReferences(['root@a.example'], null)).toEqual(['root@a.example']);
  });

  it("uses the parent's In-Reply-To when it has no References (RFC 5322 §3.6.4), and only then", () => {
    expect(replyReferences([], 'parent@c.example', 'grandparent@b.example')).toEqual(['grandparent@b.example', 'parent@c.example']);
    expect(replyReferences(['root@a.example'], 'parent@c.example', 'grandparent@b.example')).toEqual(['root@a.example', 'parent@c.example']);
  });

  it('does not repeat an id', () => {
    expect(replyReferences(['root@a.example', 'root@a.example', 'mid@b.example'], 'parent@c.example')).toEqual(['root@a.example', 'mid@b.example', 'parent@c.example']);
  });

  it('trims a long chain to about 1.5 KB keeping the root and the newest ids, in order', () => {
    const chain = Array.from({ length: 100 }, (_, i) => `ref-${String(i).padStart(3, '0')}-${'x'.repeat(48)}@mail.example.ru`);
    const parent = `parent-${'y'.repeat(48)}@mail.example.ru`;
    const ids = replyReferences(chain, parent);
    expect(ids[0]).toBe(chain[0]);
    expect(ids.at(-1)).toBe(parent);
    expect(ids.at(-2)).toBe(chain[99]);
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.length).toBeLessThan(chain.length);
    expect(headerLength(ids)).toBeLessThanOrEqual(1600);
    // The kept tail is the newest part of the chain, contiguous and in its original order.
    const tail = ids.slice(1, -1);
    const start = chain.indexOf(tail[0]);
    expect(tail).toEqual(chain.slice(start));
  });

  it('a chain just under the limit is kept whole', () => {
    const chain = Array.from({ length: 10 }, (_, i) => `short-${i}@mail.example.ru`);
    expect(replyReferences(chain, 'p@mail.example.ru')).toEqual([...chain, 'p@mail.example.ru']);
  });

  it('keeps the first and the last id even when those two alone are long', () => {
    // Message-IDs may be up to 998 characters; two long ones must not cost the parent its place.
    const root = `root-${'r'.repeat(780)}@mail.example.ru`;
    const parent = `parent-${'p'.repeat(780)}@mail.example.ru`;
    const ids = replyReferences([root, 'middle@mail.example.ru'], parent);
    expect(ids[0]).toBe(root);
    expect(ids.at(-1)).toBe(parent);
    expect(headerLength(ids)).toBeLessThan(4096);
  });
});
