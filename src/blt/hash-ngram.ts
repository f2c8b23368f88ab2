// Hash n-gram ids of the BLT encoder input (paper §3.2.1, eqs. 3-4, in the integer arithmetic of Meta's code).
//
// For every position t and n-gram size n, the window is the last n TOKEN ids (byte + 4, BOS = 1, ...),
// left-padded with BOE = 0 (not BOS):   w = (x[t-n+1], ..., x[t]),  w[0] = oldest.
//   raw = Σ_{j<n} w[j] · π^j        in signed 64-bit arithmetic with wrap-around   (oldest × π^0)
//   id  = raw mod V                  floor (Python) modulo, so id ∈ [0, V) even when raw < 0
// π = HASH_PRIMES[f % 11] for hash function f; V = encoder_hash_byte_group_vocab.
// NB: the paper (newest × a^0, raw bytes, n-grams omitted near the start, /7 normalisation) differs;
// the code above is what the checkpoints were trained with.
//
// Two exact implementations:
//   *BigInt  — readable reference: exact integer sum, BigInt.asIntN(64, ·), floor-mod.
//   fast     — no BigInt in the loop: π^j mod 2^64 precomputed as two 32-bit halves (hi, lo) held in
//              doubles; Σ w[j]·lo_j and Σ w[j]·hi_j stay below 2^53 (ids < 2^16, n ≤ 32), so the
//              64-bit wrap is an exact carry computation, and the floor-mod is done from the halves:
//              raw = hiSigned·2^32 + lo  ⇒  raw mod V = (hiSigned mod V)·(2^32 mod V) + lo mod V  (mod V),
//              exact while V² < 2^53 (V ≤ 2^26); larger V falls back to BigInt.
//
// Table layout (HF fused `encoder_hash_tok_embedding`, and Meta's ModuleList order): function-major,
// table r = f·G + gi for function f < F and group-size index gi < G; row of the fused table =
// r·V + id. `encoderHashIds` returns the per-table ids in [0, V); `offsetIds` adds r·V.

/** The 11 hash primes of Meta's code; function f uses HASH_PRIMES[f % 11] (HF cycles). */
export const HASH_PRIMES: readonly bigint[] = [
  1000000007n, 5915587277n, 1500450271n, 3267000013n, 5754853343n, 4093082899n, 9576890767n,
  3628273133n, 2860486313n, 5463458053n, 3367900313n,
];

export function primeForFunction(functionIndex: number): bigint {
  if (!Number.isInteger(functionIndex) || functionIndex < 0)
    throw new Error(`hash-ngram: functionIndex must be a non-negative integer, got ${functionIndex}`);
  return HASH_PRIMES[functionIndex % HASH_PRIMES.length]!;
}

const MASK64 = (1n << 64n) - 1n;
const TWO32 = 4294967296;

/** Python-style modulo: result in [0, m) for m > 0. */
export function floorModBigInt(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

// [doc:hash-raw]
/** raw = Σ_j window[j]·prime^j reduced mod 2^64 and read as a signed int64 (window[0] = oldest). */
export function rollingPolyHashRaw(window: ArrayLike<number>, prime: bigint): bigint {
  let sum = 0n;
  let power = 1n;
  for (let j = 0; j < window.length; j++) {
    sum += BigInt(window[j]!) * power;
    power = (power * prime) & MASK64; // powers may be reduced mod 2^64 (ring homomorphism)
  }
  return BigInt.asIntN(64, sum);
}

function checkArgs(ids: ArrayLike<number>, n: number, vocab: number, op: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error(`${op}: n-gram size must be an integer in [1, 32], got ${n}`);
  if (!Number.isInteger(vocab) || vocab < 1) throw new Error(`${op}: hash vocab must be a positive integer, got ${vocab}`);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= 65536)
      throw new Error(`${op}: token id ${v} at position ${i} must be an integer in [0, 65536)`);
  }
}

// [doc:hash-window]
/** Window of size n ending at position t, BOE(0)-padded on the left. */
export function ngramWindow(ids: ArrayLike<number>, t: number, n: number): number[] {
  const w = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const src = t - n + 1 + j;
    w[j] = src >= 0 ? ids[src]! : 0;
  }
  return w;
}

// [doc:hash-ids-bigint]
/** Reference (BigInt) hash ids of one table: id[t] = floorMod(raw(window(t, n)), vocab). */
export function hashNgramIdsBigInt(
  ids: ArrayLike<number>,
  n: number,
  functionIndex: number,
  vocab: number,
): Int32Array {
  checkArgs(ids, n, vocab, "hashNgramIdsBigInt");
  const prime = primeForFunction(functionIndex);
  const V = BigInt(vocab);
  const out = new Int32Array(ids.length);
  for (let t = 0; t < ids.length; t++) {
    out[t] = Number(floorModBigInt(rollingPolyHashRaw(ngramWindow(ids, t, n), prime), V));
  }
  return out;
}

/** π^j mod 2^64 for j < n as 32-bit halves (precomputed once per (prime, n) with BigInt). */
function powerHalves(prime: bigint, n: number): { hi: Float64Array; lo: Float64Array } {
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  let p = 1n;
  for (let j = 0; j < n; j++) {
    hi[j] = Number(p >> 32n);
    lo[j] = Number(p & 0xffffffffn);
    p = (p * prime) & MASK64;
  }
  return { hi, lo };
}

function floorMod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

// [doc:hash-ids-fast]
/**
 * Hash ids of one table (n-gram size n, hash function f, table size vocab), exact, BigInt-free loop.
 * Output[t] ∈ [0, vocab) for each position t of `ids`.
 */
export function hashNgramIds(ids: ArrayLike<number>, n: number, functionIndex: number, vocab: number): Int32Array {
  if (vocab > 1 << 26) return hashNgramIdsBigInt(ids, n, functionIndex, vocab); // V² must stay < 2^53
  checkArgs(ids, n, vocab, "hashNgramIds");
  const { hi, lo } = powerHalves(primeForFunction(functionIndex), n);
  const two32ModV = TWO32 % vocab;
  const out = new Int32Array(ids.length);
  for (let t = 0; t < ids.length; t++) {
    // Σ w[j]·π^j with π^j = hi_j·2^32 + lo_j; each product < 2^16·2^32, n ≤ 32 terms ⇒ sums < 2^53 (exact)
    let sumLo = 0;
    let sumHi = 0;
    for (let j = 0; j < n; j++) {
      const src = t - n + 1 + j;
      if (src < 0) continue; // BOE padding contributes 0
      const w = ids[src]!;
      sumLo += w * lo[j]!;
      sumHi += w * hi[j]!;
    }
    // carry the low half into the high half, then wrap the high half to 32 bits (the 2^64 wrap)
    const carry = Math.floor(sumLo / TWO32);
    const lo32 = sumLo - carry * TWO32;
    let hi32 = (sumHi + carry) % TWO32; // in [0, 2^32)
    if (hi32 >= 2147483648) hi32 -= TWO32; // signed int64 ⇒ signed high half
    // raw = hi32·2^32 + lo32  ⇒  raw mod V = ((hi32 mod V)·(2^32 mod V) + lo32 mod V) mod V
    out[t] = floorMod(floorMod(hi32, vocab) * two32ModV + (lo32 % vocab), vocab);
  }
  return out;
}

// [doc:hash-tables]
/**
 * Hash ids of all F·G tables, function-major: result[f·G + gi] = hashNgramIds(ids, groupSizes[gi], f, vocab).
 * Ids are per-table, in [0, vocab); use `offsetIds` for rows of the fused HF table.
 */
export function encoderHashIds(
  ids: ArrayLike<number>,
  groupSizes: readonly number[],
  nbFunctions: number,
  vocab: number,
): Int32Array[] {
  if (!Number.isInteger(nbFunctions) || nbFunctions < 1)
    throw new Error(`encoderHashIds: nbFunctions must be a positive integer, got ${nbFunctions}`);
  if (groupSizes.length === 0) throw new Error("encoderHashIds: groupSizes is empty");
  const tables: Int32Array[] = [];
  for (let f = 0; f < nbFunctions; f++) {
    for (const n of groupSizes) tables.push(hashNgramIds(ids, n, f, vocab));
  }
  return tables;
}

// [doc:hash-fused-rows]
/** Rows of the fused table: table r gets r·vocab added (HF `encoder_hash_tok_embedding` layout). */
export function offsetIds(tables: readonly Int32Array[], vocab: number): Int32Array[] {
  if ((tables.length * vocab) > 2147483647)
    throw new Error(`offsetIds: ${tables.length} tables × vocab ${vocab} overflows int32 row indices`);
  return tables.map((tbl, r) => {
    const out = new Int32Array(tbl.length);
    for (let t = 0; t < tbl.length; t++) out[t] = tbl[t]! + r * vocab;
    return out;
  });
}
