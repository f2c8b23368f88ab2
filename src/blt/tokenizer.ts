// BLT byte tokenizer (paper §3: bytes are the tokens): UTF-8 bytes shifted by 4, plus special ids.
//
//   id 0 = BOE  ("beginning of example": padding/filler inside the model, never produced here)
//   id 1 = BOS, id 2 = EOS
//   id 3 = PAD in the HF tokenizer (`<pad>`), BPE delimiter in Meta's code
//   byte b  ->  id b + 4          (vocabulary 260 = 4 specials + 256 bytes)
//
// Invalid text / invalid UTF-8: the reference code uses Python's `errors="ignore"`, i.e. it DROPS what
// cannot be encoded or decoded. That is the default here (`errors: "ignore"`). With `errors: "replace"`
// every invalid piece becomes U+FFFD instead (the WHATWG/TextDecoder behaviour: one U+FFFD per
// "maximal subpart" of an ill-formed sequence; Python's "replace" handler uses the same segmentation).
//   encode: lone UTF-16 surrogates in a JS string are the only unencodable code points.
//   decode: ill-formed byte sequences (stray continuation bytes, truncated sequences, overlongs,
//           surrogates D800–DFFF, values above U+10FFFF).

export const BOE_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
/** HF `<pad>`; Meta's code uses the same id as BPE delimiter (its own PAD is -1 and never embedded). */
export const PAD_ID = 3;
export const BPE_DELIM_ID = 3;
export const OFFSET = 4;
export const BYTE_UNITS = 256;
export const VOCAB_SIZE = OFFSET + BYTE_UNITS; // 260

export type Utf8ErrorMode = "ignore" | "replace";

export interface EncodeOptions {
  /** prepend BOS (default true, as HF `add_bos_token`) */
  addBos?: boolean;
  /** append EOS (default false, as HF `add_eos_token`; Meta's training data uses true) */
  addEos?: boolean;
  /** what to do with lone surrogates in a string input (default "ignore" = drop) */
  errors?: Utf8ErrorMode;
}

export interface DecodeOptions {
  /** cut the sequence at the first EOS (Meta's `cut_at_eos`), default false */
  cutAtEos?: boolean;
  /** what to do with invalid UTF-8 (default "ignore" = drop) */
  errors?: Utf8ErrorMode;
}

/** UTF-8 bytes of a JS string; lone surrogates are dropped ("ignore") or encoded as U+FFFD ("replace"). */
export function utf8Encode(text: string, errors: Utf8ErrorMode = "ignore"): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    // for..of yields whole code points; a lone surrogate comes out as a single unit in D800–DFFF
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      if (errors === "ignore") continue;
      cp = 0xfffd;
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
  }
  return Uint8Array.from(out);
}

/**
 * UTF-8 decoding that never throws. Follows the WHATWG decoder state machine: a byte that cannot
 * continue the current sequence ends it as an error and is then re-read as a fresh lead byte.
 * Errors are dropped ("ignore", Python errors="ignore") or become U+FFFD ("replace", == TextDecoder).
 */
export function utf8Decode(bytes: ArrayLike<number>, errors: Utf8ErrorMode = "ignore"): string {
  const cps: number[] = [];
  const onError = (): void => {
    if (errors === "replace") cps.push(0xfffd);
  };
  let needed = 0; // continuation bytes still expected
  let seen = 0;
  let cp = 0;
  let lower = 0x80; // allowed range of the next continuation byte
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (needed === 0) {
      if (b <= 0x7f) cps.push(b);
      else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0; // no overlongs
        if (b === 0xed) upper = 0x9f; // no surrogates
        needed = 2;
        cp = b & 0x0f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90; // no overlongs
        if (b === 0xf4) upper = 0x8f; // nothing above U+10FFFF
        needed = 3;
        cp = b & 0x07;
      } else onError(); // 80–C1, F5–FF can never start a sequence
      continue;
    }
    if (b < lower || b > upper) {
      // truncated sequence: report it, then re-read this byte as a lead byte
      needed = seen = cp = 0;
      lower = 0x80;
      upper = 0xbf;
      onError();
      i--;
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    seen++;
    if (seen === needed) {
      cps.push(cp);
      needed = seen = cp = 0;
    }
  }
  if (needed !== 0) onError(); // truncated at the end
  let s = "";
  for (let i = 0; i < cps.length; i += 4096) s += String.fromCodePoint(...cps.slice(i, i + 4096));
  return s;
}

/** ids = [BOS?] ++ [b + 4 for b in utf8(text)] ++ [EOS?]. */
export function encode(input: string | Uint8Array, options: EncodeOptions = {}): Int32Array {
  const { addBos = true, addEos = false, errors = "ignore" } = options;
  const bytes = typeof input === "string" ? utf8Encode(input, errors) : input;
  const ids = new Int32Array(bytes.length + (addBos ? 1 : 0) + (addEos ? 1 : 0));
  let o = 0;
  if (addBos) ids[o++] = BOS_ID;
  for (let i = 0; i < bytes.length; i++) ids[o++] = bytes[i]! + OFFSET;
  if (addEos) ids[o++] = EOS_ID;
  return ids;
}

function checkId(id: number, i: number, op: string): void {
  if (!Number.isInteger(id) || id >= VOCAB_SIZE)
    throw new Error(`${op}: id ${id} at index ${i} is not an integer below the vocabulary size ${VOCAB_SIZE}`);
}

/**
 * Byte values of the byte ids (id - 4); ids < 4 (specials, and Meta's PAD = -1) are skipped.
 * Throws on non-integers and ids >= 260.
 */
export function idsToBytes(ids: ArrayLike<number>, options: { cutAtEos?: boolean } = {}): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    checkId(id, i, "idsToBytes");
    if (options.cutAtEos && id === EOS_ID) break;
    if (id >= OFFSET) out.push(id - OFFSET);
  }
  return Uint8Array.from(out);
}

/** Text of an id sequence: drop ids < 4, subtract 4, UTF-8 decode (invalid bytes dropped by default). */
export function decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
  return utf8Decode(idsToBytes(ids, { cutAtEos: options.cutAtEos }), options.errors ?? "ignore");
}
