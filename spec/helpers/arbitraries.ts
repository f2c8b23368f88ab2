/** fast-check generators shared by the core specs: small shapes (size-1 and odd dims included) and seeds. */
import fc from 'fast-check';

/** A shape of rank 1..maxRank with dims 1..maxDim. */
export const shapeArb = (maxRank = 3, maxDim = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank });

/** A shape and a second shape that broadcasts to it (some dims set to 1, some leading dims dropped). */
export const broadcastPairArb = (maxRank = 3, maxDim = 4): fc.Arbitrary<[number[], number[]]> =>
  shapeArb(maxRank, maxDim).chain((s) =>
    fc.tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length - 1 }))
      .map(([ones, drop]) => [s, s.map((d, i) => (ones[i] ? 1 : d)).slice(drop)] as [number[], number[]]));

export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Runs per property: modest, so the whole suite stays fast on 2 cores. */
export const RUNS = 40;
