/**
 * Building blocks for raw RFC 822 messages as mail servers hand them over: CRLF line ends,
 * RFC 2047 encoded words, legacy single-byte charsets, quoted-printable and base64 bodies.
 * Written out by hand (no MIME library) so the service's parser is tested against bytes that
 * look like real mail, not against the output of the same library it uses.
 */

/** `\n` → `\r\n` (the template literals below are written with plain newlines). */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

const encoders = new Map<string, Map<string, number>>();

/** Encodes text in a single-byte charset (windows-1251, koi8-r, …) by inverting the platform decoder. */
export function encodeSingleByte(text: string, charset: string): Buffer {
  let table = encoders.get(charset);
  if (!table) {
    table = new Map();
    const decoder = new TextDecoder(charset);
    for (let byte = 0; byte < 256; byte++) {
      const char = decoder.decode(Uint8Array.of(byte));
      if (char !== '\ufffd' && !table.has(char)) table.set(char, byte);
    }
    encoders.set(charset, table);
  }
  const bytes = [...text].map((char) => {
    const byte = table.get(char);
    if (byte === undefined) throw new Error(`${JSON.stringify(char)} has no ${charset} encoding`);
    return byte;
  });
  return Buffer.from(bytes);
}

/** RFC 2047 B encoding: `=?UTF-8?B?…?=`. */
export function encodedWordB(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** RFC 2047 Q encoding in a single-byte charset, e.g. `=?KOI8-R?Q?…?=`; spaces become `_`. */
export function encodedWordQ(text: string, charset: string): string {
  const bytes = encodeSingleByte(text, charset);
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x20) out += '_';
    else if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)) out += String.fromCharCode(byte);
    else out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?${charset.toUpperCase()}?Q?${out}?=`;
}

/** Quoted-printable of UTF-8 text (RFC 2045), soft line breaks at 76 characters. */
export function quotedPrintable(text: string): string {
  const lines = text.replace(/\r?\n/g, '\n').split('\n');
  return lines
    .map((line) => {
      let encoded = '';
      for (const byte of Buffer.from(line, 'utf8')) {
        const printable = byte >= 33 && byte <= 126 && byte !== 61;
        encoded += printable || byte === 32 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      }
      if (encoded.endsWith(' ')) encoded = `${encoded.slice(0, -1)}=20`;
      const wrapped: string[] = [];
      while (encoded.length > 75) {
        let cut = 75;
        // Never split an =XX escape.
        const escape = encoded.lastIndexOf('=', cut);
        if (escape > cut - 3) cut = escape;
        wrapped.push(`${encoded.slice(0, cut)}=`);
        encoded = encoded.slice(cut);
      }
      wrapped.push(encoded);
      return wrapped.join('\r\n');
    })
    .join('\r\n');
}

/** Base64 wrapped at 76 characters, as MIME bodies carry it. */
export function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** An RFC 5322 date, e.g. `Tue, 25 Nov 2025 09:15:00 +0300`. */
export function rfc2822Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
