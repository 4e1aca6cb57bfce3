/**
 * The words of a text as Elasticsearch's `standard` analyzer sees them (Lucene's
 * StandardTokenizer, UAX #29 word boundaries, then lowercase), so the SQLite store indexes and
 * matches exactly the terms Elasticsearch does and both stores give the same answers.
 *
 * Rules kept from UAX #29: letters and digits join (`v1`), `_` joins anything (`user_id`), one
 * `. ' :` between letters joins (`a.b`, `don't`, `host:port`), one `. , ;` between digits joins
 * (`10.5`, `1,000`); every Han / Hiragana character is its own token; tokens longer than 255
 * characters are split (the analyzer's `max_token_length`). Known gap: emoji are not tokens here.
 *
 * The output only ever holds letters, marks, digits and those joiners — never a quote, star,
 * parenthesis or whitespace — which is what makes quoting them for FTS5 injection-proof.
 */
const LET = String.raw`[^\P{L}\p{sc=Han}\p{sc=Hiragana}][\p{M}\u200d]*`;
const NUM = String.raw`\p{Nd}[\p{M}\u200d]*`;
const JOIN = String.raw`\p{Pc}`;
// MidLetter ∪ MidNumLet ∪ Single_Quote: joins two letters.
const MID_LETTER = String.raw`[:\u00b7\u0387\u05f4\u2027\ufe13\ufe55\uff1a.'\u2018\u2019\u2024\ufe52\uff07\uff0e]`;
// MidNum ∪ MidNumLet ∪ Single_Quote: joins two digits.
const MID_NUM = String.raw`[,;\u037e\u0589\u060c\u060d\u066c\u07f8\u2044\ufe10\ufe14\ufe50\ufe54\uff0c\uff1b.'\u2018\u2019\u2024\ufe52\uff07\uff0e]`;
const UNIT = `(?:${LET}(?:${MID_LETTER}(?=${LET}))?|${NUM}(?:${MID_NUM}(?=${NUM}))?)`;
const WORD = new RegExp(`${JOIN}*${UNIT}(?:${JOIN}*${UNIT})*${JOIN}*`, 'gu');
const IDEOGRAPH = /[\p{sc=Han}\p{sc=Hiragana}]/gu;

export const MAX_TOKEN_LENGTH = 255;

/** Lowercased terms in no particular order (the stores only AND them; positions are not kept). */
export function standardTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(WORD)) pushToken(out, lowercase(m[0]));
  for (const m of text.matchAll(IDEOGRAPH)) out.push(m[0]);
  return out;
}

/**
 * Lucene lowercases one code point at a time (Java's Character.toLowerCase); JavaScript applies
 * full case mapping, which differs for two letters: İ (→ i̇, two chars) and a word-final Σ (→ ς).
 */
function lowercase(token: string): string {
  if (!/[\u0130\u03a3]/.test(token)) return token.toLowerCase();
  let out = '';
  for (const c of token) out += c === '\u0130' ? 'i' : c.toLowerCase();
  return out;
}

function pushToken(out: string[], token: string): void {
  if (token.length <= MAX_TOKEN_LENGTH) {
    out.push(token);
    return;
  }
  for (let i = 0; i < token.length; i += MAX_TOKEN_LENGTH) out.push(token.slice(i, i + MAX_TOKEN_LENGTH));
}
