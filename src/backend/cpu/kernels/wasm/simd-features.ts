// Which WebAssembly SIMD instruction set the CPU kernels are built for, decided once at start-up by feature
// detection (never by engine version):
//   'relaxed': the relaxed-SIMD proposal's f32x4.relaxed_madd (a·b + c, one fused multiply-add where the CPU has
//              FMA) replaces each f32x4.mul + f32x4.add pair of the multiply-add loops;
//   'simd':    fixed-width SIMD only (every engine with wasm SIMD: Node ≥ 16, current browsers).
// Detection compiles a one-instruction module with WebAssembly.validate. Node 20's V8 has relaxed SIMD behind the
// flag --experimental-wasm-relaxed-simd (on by default from V8 11.4 / Node 22 and in Chrome ≥ 114); the blt
// command line and the benchmarks set that flag when the engine knows it (node-flags.ts), a library user may
// pass it to node. setWasmSimdLevel('simd') forces the plain path, to compare the two.

/** A module whose one function computes f32x4.relaxed_madd of its three v128 parameters. */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code: 1 body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

/** The instruction sets the kernels can be built for (see the header). */
export type WasmSimdLevel = 'relaxed' | 'simd';

/** True when this engine accepts relaxed-SIMD instructions (checked on every call: flags may change it). */
export function relaxedSimdAvailable(): boolean {
  return typeof WebAssembly !== 'undefined' && WebAssembly.validate(RELAXED_PROBE);
}

let forced: WasmSimdLevel | null = null;
let detected: WasmSimdLevel | null = null;

/** The level the kernels are built for: the forced one if set, else 'relaxed' when available, else 'simd'. */
export function wasmSimdLevel(): WasmSimdLevel {
  if (forced) return forced === 'relaxed' && !relaxedSimdAvailable() ? 'simd' : forced;
  detected ??= relaxedSimdAvailable() ? 'relaxed' : 'simd';
  return detected;
}

/** Forces a level ('relaxed' only takes effect where available); null returns to detection. */
export function setWasmSimdLevel(level: WasmSimdLevel | null): void {
  forced = level;
  detected = null;
}
