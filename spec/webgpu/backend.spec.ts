// backend.spec.ts — every WebGPU Backend kernel equals the CPU backend's kernel on the same float32 inputs.
//
// The CPU backend computes in float64 and rounds once; the WebGPU kernels compute in float32 with WGSL's
// accuracy (exact for +, -, *, comparisons and data movement; division 2.5 ULP; exp (3 + 2|x|) ULP;
// log 3 ULP or 2^-21 absolute; sqrt ~5 ULP (via inverseSqrt); tanh inherits sinh/cosh). Each comparison
// states its bound next to it; u = 2^-24 is the float32 unit roundoff.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cpuBackend, CpuStorage } from '../../src/backend/cpu/cpu-backend.js';
import { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.js';
import type { Storage, UnaryOp, BinaryOp } from '../../src/backend/backend.js';
import type { TypedArray } from '../../src/tensor/dtype.js';
import { broadcastShapes, sizeOf } from '../../src/tensor/shape.js';
import { randomF32, rng, useGpu, U32 as u, RUN_WEBGPU } from './gpu-setup.js';

const gpu = useGpu();
let backend: WebGpuBackend | undefined;
function gb(): WebGpuBackend {
  const ctx = gpu();
  backend ??= new WebGpuBackend(ctx);
  return backend;
}

const cpuData = (s: Storage) => (s as CpuStorage).data;
const gamma = (n: number) => (n * u) / (1 - n * u);

/** Download a GPU storage and dispose it. */
async function take(g: WebGpuBackend, s: Storage): Promise<TypedArray> {
  const d = await g.download(s);
  g.dispose(s);
  return d;
}

/** Assert |got - want| <= bound(i) elementwise (NaN/inf must match exactly). */
function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const ok = Number.isFinite(w) ? Math.abs(g - w) <= bound(i) : Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g));
    if (!ok) expect.fail(`${what}[${i}] = ${g}, want ${w} ± ${bound(i)}`);
  }
}

const exact = () => 0;

/** Per-op error bound of the WebGPU unary kernels relative to the correctly rounded CPU result. */
const unaryBound: Record<UnaryOp, (x: number, y: number) => number> = {
  abs: exact, sign: exact, relu: exact,
  exp: (x, y) => (3 + 2 * Math.abs(x)) * u * Math.abs(y) * 2,               // exp ULP + CPU's rounding
  log: (_x, y) => Math.max(3 * u * Math.abs(y), 2 ** -21) + u * Math.abs(y),
  sqrt: (_x, y) => 6 * u * Math.abs(y),                                       // 1/inverseSqrt: 2 + 2.5 ULP, + rounding
  rsqrt: (_x, y) => 9 * u * Math.abs(y),                                      // sqrt then a 2.5-ULP division
  // tanh = sinh/cosh: numerator error (3+2|x|)u (e^x + e^-x) over the denominator, twice, plus the division.
  tanh: (x) => (9 + 4 * Math.abs(x)) * u,
  // sigmoid = 1/(1+e) or e/(1+e): relative error of e is (3+2|x|)u; sigma <= 1.
  sigmoid: (x) => (8 + 2 * Math.abs(x)) * u,
  silu: (x, y) => Math.abs(x) * (8 + 2 * Math.abs(x)) * u + u * Math.abs(y),
};

/**
 * pow(a, b) = exp2(t), t = b log2|a|: log2's error max(3u|log2 a|, 2^-21) scaled by |b| and by ln 2 (as a relative
 * error of the result), plus exp2's (3 + 2|t|) ULP and the CPU's rounding; doubled for second-order terms.
 */
function powBound(a: number, b: number, want: number): number {
  const l = Math.abs(Math.log2(Math.abs(a)));
  const rel = Math.abs(b) * Math.max(3 * u * l, 2 ** -21) * Math.LN2 + (4 + 2 * Math.abs(b * l)) * u;
  return 2 * rel * Math.abs(want);
}

describe.runIf(RUN_WEBGPU)('webgpu backend equals the cpu backend', () => {
  it('unary ops, affine and powScalar', async () => {
    const g = gb();
    const x = randomF32(500, 11, 4);
    const pos = Float32Array.from(x, (v) => Math.abs(v) + 0.01);
    for (const op of Object.keys(unaryBound) as UnaryOp[]) {
      const input = op === 'log' || op === 'sqrt' || op === 'rsqrt' ? pos : x;
      const want = cpuData(cpuBackend.unary(op, cpuBackend.upload(input)));
      const got = await take(g, g.unary(op, g.upload(input)));
      expectClose(op, got, want, (i) => unaryBound[op](input[i], want[i]));
    }
    // affine: GPU may fuse x*a+b into one FMA; CPU rounds the f64 result once: <= u(|x a| + |b|) + u|y|.
    const wantA = cpuData(cpuBackend.affine(cpuBackend.upload(x), 0.37, -1.25));
    expectClose('affine', await take(g, g.affine(g.upload(x), 0.37, -1.25)), wantA, (i) => u * (Math.abs(x[i] * 0.37) + 1.25) * 2 + u * Math.abs(wantA[i]));
    // pow = exp2(y log2|x|): log2 error max(3u|log2 x|, 2^-21) scaled by |y| ln 2, plus exp2's (3 + 2|t|) ULP.
    for (const p of [2, 3, -1, 0.5, 1.7]) {
      const input = p === 0.5 || p === 1.7 ? pos : x;
      const want = cpuData(cpuBackend.powScalar(cpuBackend.upload(input), p));
      const got = await take(g, g.powScalar(g.upload(input), p));
      expectClose(`pow ${p}`, got, want, (i) => (p === 2 ? 0 : powBound(input[i], p, want[i])));
    }
  });

  it('broadcasting binary ops and where', async () => {
    const g = gb();
    const shapes: Array<[number[], number[]]> = [[[3, 4], [3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [1, 3, 1]], [[5], []], [[1], [2, 2, 2, 2, 2, 2, 2]]];
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'gt', 'ge', 'eq'];
    for (const [as, bs] of shapes) {
      const out = broadcastShapes(as, bs);
      const a = randomF32(sizeOf(as), sizeOf(as) + 1, 2);
      const b = randomF32(sizeOf(bs), sizeOf(bs) + 2, 2);
      b[0] = a[0]; // one tie for eq/ge/maximum
      for (const op of ops) {
        const want = cpuData(cpuBackend.binary(op, cpuBackend.upload(a), as, cpuBackend.upload(b), bs, out));
        const got = await take(g, g.binary(op, g.upload(a), as, g.upload(b), bs, out));
        // +, -, *, comparisons: correctly rounded in both; div 2.5 ULP.
        const bound = (i: number) => (op === 'div' ? 3.5 * u * Math.abs(want[i]) : 0);
        expectClose(`${op} ${JSON.stringify([as, bs])}`, got, want, bound);
      }
      const cond = Float32Array.from(randomF32(sizeOf(as), 3), (v) => (v > 0 ? 1 : 0));
      const wantW = cpuData(cpuBackend.where(cpuBackend.upload(cond), as, cpuBackend.upload(a), as, cpuBackend.upload(b), bs, out));
      expectClose('where', await take(g, g.where(g.upload(cond), as, g.upload(a), as, g.upload(b), bs, out)), wantW, exact);
    }
  });

  it('reductions, softmax, pick and scatter over the last axis (random shapes)', async () => {
    const g = gb();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 0, max: 1e6 }), async (rows, cols, seed) => {
        const x = randomF32(rows * cols, seed, 3);
        const cx = cpuBackend.upload(x);
        const absRow = (r: number) => x.subarray(r * cols, (r + 1) * cols).reduce((s, v) => s + Math.abs(v), 0);
        const wantSum = cpuData(cpuBackend.sumLast(cx, rows, cols));
        expectClose('sumLast', await take(g, g.sumLast(g.upload(x), rows, cols)), wantSum, (r) => gamma(cols) * absRow(r) + u * Math.abs(wantSum[r]));
        const wm = cpuBackend.maxLast(cx, rows, cols);
        const gm = g.maxLast(g.upload(x), rows, cols);
        expectClose('maxLast values', await take(g, gm.values), cpuData(wm.values), exact);
        expectClose('maxLast argmax', await take(g, gm.argmax), cpuData(wm.argmax), exact);
        // softmax y = exp(x - m)/s: exp (3 + 2|x - m|) ULP, s within gamma_cols + (3 + 2X)u, division 2.5 ULP.
        const X = (r: number) => { let lo = Infinity, hi = -Infinity; for (let c = 0; c < cols; c++) { lo = Math.min(lo, x[r * cols + c]); hi = Math.max(hi, x[r * cols + c]); } return hi - lo; };
        const wantS = cpuData(cpuBackend.softmaxLast(cx, rows, cols));
        expectClose('softmax', await take(g, g.softmaxLast(g.upload(x), rows, cols)), wantS,
          (i) => 2 * ((3 + 2 * X(Math.floor(i / cols))) * u * 2 + gamma(cols) + 4 * u) * Math.abs(wantS[i]));
        // log-softmax y = x - m - log s: |x - m| rounding, log error, relative error of s.
        const wantL = cpuData(cpuBackend.logSoftmaxLast(cx, rows, cols));
        expectClose('logSoftmax', await take(g, g.logSoftmaxLast(g.upload(x), rows, cols)), wantL,
          (i) => 2 * (u * (X(Math.floor(i / cols)) + Math.abs(wantL[i])) + Math.max(3 * u * Math.log(cols), 2 ** -21) + gamma(cols) + (3 + 2 * X(Math.floor(i / cols))) * u));
        const r = rng(seed);
        const idx = Int32Array.from({ length: rows }, () => Math.floor(r() * (cols + 1)) - 1); // -1 = none
        const gi = () => g.upload(idx);
        expectClose('pickLast', await take(g, g.pickLast(g.upload(x), gi(), rows, cols)), cpuData(cpuBackend.pickLast(cx, cpuBackend.upload(idx), rows, cols)), exact);
        const gr = randomF32(rows, seed + 5);
        expectClose('scatterLast', await take(g, g.scatterLast(g.upload(gr), gi(), rows, cols)), cpuData(cpuBackend.scatterLast(cpuBackend.upload(gr), cpuBackend.upload(idx), rows, cols)), exact);
      }),
      { numRuns: 15 },
    );
    // Ties: the maximum 5 appears in columns handled by different threads; the first column (7) must win.
    const tie = new Float32Array(300).fill(1);
    for (const c of [290, 7, 100, 263]) tie[c] = 5;
    const tm = g.maxLast(g.upload(tie), 1, 300);
    expect([(await take(g, tm.values))[0], (await take(g, tm.argmax))[0]]).toEqual([5, 7]);
    const x = randomF32(3000, 4);
    const want = cpuData(cpuBackend.sumSquares(cpuBackend.upload(x)))[0];
    const got = (await take(g, g.sumSquares(g.upload(x))))[0];
    expect(Math.abs(got - want)).toBeLessThanOrEqual(gamma(3001) * want);
  });

  it('movement ops (float32 and int32), cast, full and copyInto are exact', async () => {
    const g = gb();
    const shape = [2, 3, 4, 5];
    const xf = randomF32(120, 7);
    const xi = Int32Array.from({ length: 120 }, (_, i) => i * 7 - 300);
    for (const x of [xf, xi]) {
      const c = cpuBackend.upload(x);
      const cmp = async (what: string, gs: Storage, cs: Storage) => {
        expect(gs.dtype, what).toBe(cs.dtype);
        expectClose(what, await take(g, gs), cpuData(cs), exact);
      };
      await cmp('permute', g.permute(g.upload(x), shape, [3, 1, 0, 2]), cpuBackend.permute(c, shape, [3, 1, 0, 2]));
      await cmp('expand', g.expand(g.upload(x), shape, [2, 2, 3, 4, 5]), cpuBackend.expand(c, shape, [2, 2, 3, 4, 5]));
      await cmp('slice', g.slice(g.upload(x), shape, [1, 0, 2, 1], [1, 3, 2, 3]), cpuBackend.slice(c, shape, [1, 0, 2, 1], [1, 3, 2, 3]));
      await cmp('pad', g.pad(g.upload(x), shape, [0, 1, 0, 2], [2, 5, 4, 8]), cpuBackend.pad(c, shape, [0, 1, 0, 2], [2, 5, 4, 8]));
      await cmp('cast', g.cast(g.upload(x), x === xf ? 'int32' : 'float32'), cpuBackend.cast(c, x === xf ? 'int32' : 'float32'));
    }
    expectClose('full f32', await take(g, g.full(5, 'float32', -2.5)), [-2.5, -2.5, -2.5, -2.5, -2.5], exact);
    expectClose('full i32', await take(g, g.full(3, 'int32', -7)), [-7, -7, -7], exact);
    const dst = g.full(4, 'float32', 0);
    g.copyInto(dst, g.upload(Float32Array.of(1, 2, 3, 4)));
    expectClose('copyInto', await take(g, dst), [1, 2, 3, 4], exact);
    // copyRange writes elements [1, 3) of the source at 2, leaving the rest: the same as on the CPU
    const src = Float32Array.of(9, 8, 7, 6), cdst = cpuBackend.upload(Float32Array.of(1, 2, 3, 4, 5));
    const gdst = g.upload(Float32Array.of(1, 2, 3, 4, 5));
    g.copyRange(gdst, 2, g.upload(src), 1, 2);
    cpuBackend.copyRange(cdst, 2, cpuBackend.upload(src), 1, 2);
    expectClose('copyRange', await take(g, gdst), [1, 2, 8, 7, 5], exact);
    expectClose('copyRange cpu', cpuData(cdst), [1, 2, 8, 7, 5], exact);
    expect(() => g.copyRange(gdst, 4, g.upload(src), 0, 2)).toThrow(/cannot copy 2 elements of float32\[4\] from 0 to float32\[5\] at 4/);
    expect(() => cpuBackend.copyRange(cdst, 0, cpuBackend.upload(Int32Array.of(1)), 0, 1)).toThrow(/int32\[1\] from 0 to float32\[5\]/);
    expect(() => g.upload(new Float64Array(2))).toThrow(/float64 is not supported on WebGPU/);
  });

  it('matmul with transposes and broadcast batch', async () => {
    const g = gb();
    // K = 33 takes the tiled kernel; [8, 32, 12] takes the vec4 kernel on CPU drivers (chooseMatmulVariant).
    for (const [transA, transB, aStride, [batch, M, K, N]] of [
      [false, false, 1, [2, 7, 33, 5]], [true, false, 0, [2, 7, 33, 5]], [false, true, 1, [2, 7, 33, 5]], [true, true, 1, [2, 7, 33, 5]],
      [false, false, 1, [2, 8, 32, 12]], [true, false, 0, [2, 8, 32, 12]], [false, true, 1, [2, 8, 32, 12]], [true, true, 1, [2, 8, 32, 12]],
    ] as const) {
      const a = randomF32(batch * M * K, 1);
      const b = randomF32(batch * K * N, 2);
      const as = aStride * M * K;
      const want = cpuData(cpuBackend.matmul(cpuBackend.upload(a), cpuBackend.upload(b), batch, M, K, N, transA, transB, as, K * N));
      const got = await take(g, g.matmul(g.upload(a), g.upload(b), batch, M, K, N, transA, transB, as, K * N));
      // |error| <= gamma_{K+2} sum_k |a||b| <= gamma_{K+2} K max|a| max|b| (inputs are in [-2, 2]).
      expectClose(`matmul ${transA} ${transB}`, got, want, () => gamma(K + 2) * K * 4);
    }
  });

  it('gatherRows, scatterAddRows, segmentMax and its backward', async () => {
    const g = gb();
    const [V, D, n] = [11, 6, 40];
    const table = randomF32(V * D, 3);
    const ids = Int32Array.from({ length: n }, (_, i) => (i * 7) % V);
    expectClose('gatherRows', await take(g, g.gatherRows(g.upload(table), V, D, g.upload(ids), n)), cpuData(cpuBackend.gatherRows(cpuBackend.upload(table), V, D, cpuBackend.upload(ids), n)), exact);
    const gr = randomF32(n * D, 4);
    const wantS = cpuData(cpuBackend.scatterAddRows(cpuBackend.upload(gr), cpuBackend.upload(ids), n, D, V));
    // Sums of <= ceil(n / V) terms in an arbitrary order: gamma_n sum |g| with |g| <= 2, plus CPU rounding.
    const perRow = Math.ceil(n / V);
    expectClose('scatterAddRows', await take(g, g.scatterAddRows(g.upload(gr), g.upload(ids), n, D, V)), wantS, (i) => gamma(perRow) * perRow * 2 + u * Math.abs(wantS[i]));
    const [N, S] = [30, 6];
    const x = randomF32(N * D, 5);
    const seg = Int32Array.from({ length: N }, (_, i) => (i === 3 ? -1 : Math.min(S - 2, Math.floor(i / 6)))); // segment S-1 empty
    x[2 * D] = x[1 * D]; // a tie inside segment 0: the first row must win
    const wm = cpuBackend.segmentMax(cpuBackend.upload(x), cpuBackend.upload(seg), N, D, S);
    const gm = g.segmentMax(g.upload(x), g.upload(seg), N, D, S);
    expectClose('segmentMax values', await g.download(gm.values), cpuData(wm.values), exact);
    expectClose('segmentMax argmax', await g.download(gm.argmax), cpuData(wm.argmax), exact);
    const gs = randomF32(S * D, 6);
    const wantB = cpuData(cpuBackend.segmentMaxBackward(cpuBackend.upload(gs), wm.argmax, S, D, N));
    expectClose('segmentMaxBackward', await take(g, g.segmentMaxBackward(g.upload(gs), gm.argmax, S, D, N)), wantB, exact);
  });

  it('rmsNorm forward and backward, rope, attention', async () => {
    const g = gb();
    const [rows, D] = [5, 96];
    const x = randomF32(rows * D, 8);
    const w = randomF32(D, 9);
    const wantF = cpuBackend.rmsNorm(cpuBackend.upload(x), cpuBackend.upload(w), rows, D, 1e-5);
    const gotF = g.rmsNorm(g.upload(x), g.upload(w), rows, D, 1e-5);
    // rstd: sum of squares gamma_D, then /D, +eps, sqrt (~5 ULP), reciprocal (2.5 ULP): (D/2 + 10) u relative.
    const rstdW = cpuData(wantF.rstd);
    expectClose('rmsNorm rstd', await g.download(gotF.rstd), rstdW, (r) => (D / 2 + 10) * u * rstdW[r]);
    const yW = cpuData(wantF.y);
    expectClose('rmsNorm y', await take(g, gotF.y), yW, (i) => (D / 2 + 13) * u * Math.abs(w[i % D] * x[i] * rstdW[Math.floor(i / D)]));
    // Backward from the SAME rstd (so only the backward's own rounding counts):
    //   dx = rs w dy - c x, c = rs^3 dot / D: 4u |rs w dy| + (gamma_D + 6u) rs^3 sum|w dy x| / D |x|;  dw: gamma_{rows+2}.
    const dy = randomF32(rows * D, 10);
    const rstdF32 = cpuData(wantF.rstd) as Float32Array;
    const wantB = cpuBackend.rmsNormBackward(cpuBackend.upload(dy), cpuBackend.upload(x), cpuBackend.upload(w), cpuBackend.upload(rstdF32), rows, D);
    const gotB = g.rmsNormBackward(g.upload(dy), g.upload(x), g.upload(w), g.upload(rstdF32), rows, D);
    const absDot = (r: number) => { let s = 0; for (let d = 0; d < D; d++) s += Math.abs(w[d] * dy[r * D + d] * x[r * D + d]); return s; };
    expectClose('rmsNorm dx', await take(g, gotB.dx), cpuData(wantB.dx), (i) => {
      const r = Math.floor(i / D), rs = rstdF32[r];
      return 4 * u * Math.abs(rs * w[i % D] * dy[i]) + (gamma(D) + 6 * u) * rs ** 3 * absDot(r) / D * Math.abs(x[i]) + u * Math.abs(cpuData(wantB.dx)[i]);
    });
    expectClose('rmsNorm dw', await take(g, gotB.dw), cpuData(wantB.dw), (d) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += Math.abs(dy[r * D + d] * x[r * D + d] * rstdF32[r]);
      return gamma(rows + 3) * s;
    });
    // rope: identical f32 angles; sin/cos within 4u absolute (Cody-Waite + minimax) -> 8u (|x0| + |x1|).
    const [B, T, H, Dh] = [2, 37, 3, 16];
    const xr = randomF32(B * T * H * Dh, 12);
    const pos = Int32Array.from({ length: T }, (_, i) => i * 97 + 3);
    for (const inverse of [false, true]) {
      const want = cpuData(cpuBackend.rope(cpuBackend.upload(xr), B, T, H, Dh, cpuBackend.upload(pos), 10000, inverse));
      const got = await take(g, g.rope(g.upload(xr), B, T, H, Dh, g.upload(pos), 10000, inverse));
      expectClose(`rope inverse=${inverse}`, got, want, (i) => {
        const base = i - (i % 2);
        return 8 * u * (Math.abs(xr[base]) + Math.abs(xr[base + 1]));
      });
    }
    // attention: same layouts and empty-range conventions as the CPU kernel (bounds in attention.spec.ts).
    const dims = { B: 1, Tq: 9, Tk: 9, Hq: 2, Hkv: 1, D: 8, scale: 0.35 };
    const q = randomF32(9 * 2 * 8, 13), k = randomF32(9 * 8, 14), v = randomF32(9 * 8, 15);
    const st = Int32Array.from({ length: 9 }, (_, t) => Math.max(0, t - 3)), en = Int32Array.from({ length: 9 }, (_, t) => (t === 4 ? 0 : t + 1));
    const wa = cpuBackend.attention(...([q, k, v, st, en].map((a) => cpuBackend.upload(a)) as [Storage, Storage, Storage, Storage, Storage]), dims);
    const ga = g.attention(...([q, k, v, st, en].map((a) => g.upload(a)) as [Storage, Storage, Storage, Storage, Storage]), dims);
    // |out| <= 2 and at most 4 keys, |s| <= 0.35 * 8 * 4: weights within ~(4 * 2 * 11.2 + 30) u relative; x4 margin of the model in reference.ts.
    expectClose('attention out', await take(g, ga.out), cpuData(wa.out), () => 4 * (8 * 11.2 + 40) * u * 2);
    expectClose('attention lse', await take(g, ga.lse), cpuData(wa.lse), (i) => 4 * (3 * 11.2 + 40) * u + 2 ** -20 + 4 * u * Math.abs(cpuData(wa.lse)[i]));
  });

  it('swiglu forward and backward', async () => {
    const g = gb();
    const n = 777;
    const gate = randomF32(n, 31, 6), up = randomF32(n, 32, 2), dOut = randomF32(n, 33, 1);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    // GPU sigmoid: relative error E = (8 + 2|x|)u (see unaryBound). Forward x·s·up: E, two products, and the
    // CPU's two roundings (silu, product): (E + 4u)|x s up|.
    const want = cpuData(cpuBackend.swiglu(cpuBackend.upload(gate), cpuBackend.upload(up)));
    const E = (x: number) => (8 + 2 * Math.abs(x)) * u;
    expectClose('swiglu', await take(g, g.swiglu(g.upload(gate), g.upload(up))), want,
      (i) => (E(gate[i]) + 4 * u) * Math.abs(gate[i] * sig(gate[i]) * up[i]));
    const wb = cpuBackend.swigluBackward(cpuBackend.upload(dOut), cpuBackend.upload(gate), cpuBackend.upload(up));
    const gbw = g.swigluBackward(g.upload(dOut), g.upload(gate), g.upload(up));
    // dUp = g x s: E, two products, the CPU's rounding.
    expectClose('swiglu dUp', await take(g, gbw.dUp), cpuData(wb.dUp),
      (i) => (E(gate[i]) + 3 * u) * Math.abs(dOut[i] * gate[i] * sig(gate[i])));
    // dGate = g up s h, h = 1 + x(1 - s): s off by E·s moves h by |x|·E·s; 1 - s, x(1 - s) and + 1 round
    // (2u(|x| + |h|) with s ≤ 1); three products and the CPU's rounding: 4u.
    expectClose('swiglu dGate', await take(g, gbw.dGate), cpuData(wb.dGate), (i) => {
      const x = gate[i], s = sig(x), h = 1 + x * (1 - s), gu = Math.abs(dOut[i] * up[i]);
      return gu * s * (E(x) * (Math.abs(h) + Math.abs(x)) + 2 * u * (Math.abs(x) + Math.abs(h))) + 4 * u * gu * s * Math.abs(h);
    });
  });

  it('adamwStep updates p, m, v in place like the CPU', async () => {
    const g = gb();
    const n = 300;
    const p = randomF32(n, 20), gr = randomF32(n, 21), m = randomF32(n, 22, 0.1), v = Float32Array.from(randomF32(n, 23), (x) => x * x + 0.01);
    const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    const cs = [p, gr, m, v].map((a) => cpuBackend.upload(a));
    const gs = [p, gr, m, v].map((a) => g.upload(a));
    cpuBackend.adamwStep(cs[0], cs[1], cs[2], cs[3], h);
    g.adamwStep(gs[0], gs[1], gs[2], gs[3], h);
    const [pw, mw, vw] = [cpuData(cs[0]), cpuData(cs[2]), cpuData(cs[3])];
    const [pg, mg, vg] = [await take(g, gs[0]), await take(g, gs[2]), await take(g, gs[3])];
    // m, v: 4 roundings of each term plus the f32 rounding of beta (<= u|beta| (|m| + |g|)).
    const gsc = (i: number) => Math.abs(gr[i] * h.gradScale);
    const eM = (i: number) => 4 * u * (h.beta1 * Math.abs(m[i]) + (1 - h.beta1) * gsc(i)) + u * h.beta1 * (Math.abs(m[i]) + gsc(i));
    const eV = (i: number) => 5 * u * (h.beta2 * v[i] + (1 - h.beta2) * gsc(i) ** 2) + u * h.beta2 * (v[i] + gsc(i) ** 2);
    expectClose('adamw m', mg, mw, eM);
    expectClose('adamw v', vg, vw, eV);
    // p = p*decay - lr mhat / (sqrt(vhat) + eps): 14u on the update plus the propagated m and v errors, 3u on p*decay.
    const bc1 = 1 - h.beta1 ** h.step, bc2 = 1 - h.beta2 ** h.step;
    expectClose('adamw p', pg, pw, (i) => {
      const den = Math.sqrt(vw[i] / bc2) + h.eps;
      const upd = Math.abs((h.lr * mw[i]) / bc1 / den);
      return upd * (14 * u + eV(i) / (2 * vw[i])) + (h.lr * eM(i)) / bc1 / den + 3 * u * Math.abs(p[i]);
    });
  });

  it('rejects storages from another device and disposed storages, naming the op', () => {
    const g = gb();
    expect(() => g.unary('exp', cpuBackend.upload(new Float32Array(2)))).toThrow(/webgpu unary exp: storage on device 'cpu'/);
    const s = g.upload(new Float32Array(2));
    g.dispose(s);
    expect(() => g.sumLast(s, 1, 2)).toThrow(/webgpu sumLast: storage was disposed/);
  });
});
