// Writes a state dict as a torch.save file that `torch.load` reads (and pth.ts reads back): the zip layout of
// pth.ts with a protocol-2 pickle `{"model": {key: tensor}}` that uses only the opcodes and names the reader
// allows. Tensors are streamed from their TensorSources in row blocks, one storage entry per tensor.

import { FILE_DTYPE_BYTES, numelOf, type FileDtype, type TensorSource } from '../tensor-source.js';
import { ZipWriter } from './zip-writer.js';

const STORAGE_NAMES: Record<FileDtype, string> = {
  F32: 'FloatStorage', F64: 'DoubleStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', I32: 'IntStorage', I64: 'LongStorage',
};

/** Bytes streamed per write when copying a tensor (bounds the memory of a write). */
const BLOCK_BYTES = 64 << 20;

/** A tiny protocol-2 pickle emitter: just the opcodes a state dict of tensors needs. */
class PickleBuilder {
  private readonly parts: number[] = [];
  private readonly enc = new TextEncoder();
  op(...bytes: number[]): this { this.parts.push(...bytes); return this; }
  str(s: string): this {
    const b = this.enc.encode(s);
    this.op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24); // BINUNICODE
    for (const x of b) this.parts.push(x);
    return this;
  }
  global(module: string, name: string): this {
    this.op(0x63); // GLOBAL
    for (const x of this.enc.encode(`${module}\n${name}\n`)) this.parts.push(x);
    return this;
  }
  int(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`pickle: cannot write integer ${n}`);
    if (n < 256) return this.op(0x4b, n); // BININT1
    if (n < 65536) return this.op(0x4d, n & 0xff, n >> 8); // BININT2
    if (n < 2 ** 31) return this.op(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24); // BININT
    const bytes: number[] = []; // LONG1: little-endian two's complement, with a 0 sign byte when the top bit is set
    for (let x = BigInt(n); x > 0n; x >>= 8n) bytes.push(Number(x & 0xffn));
    if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  tuple(items: number[]): this {
    this.op(0x28); // MARK
    for (const n of items) this.int(n);
    return this.op(0x74); // TUPLE
  }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** Row-major strides of a shape. */
function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
}

/** The pickle of {"model": {key: tensor}}, storage i = tensor i in `tensors` order. */
export function stateDictPickle(tensors: readonly TensorSource[], keys: readonly string[]): Uint8Array {
  const p = new PickleBuilder();
  p.op(0x80, 2).op(0x7d).str('model').op(0x7d).op(0x28); // PROTO 2, {}, 'model', {}, MARK
  tensors.forEach((t, i) => {
    p.str(keys[i]).global('torch._utils', '_rebuild_tensor_v2').op(0x28); // key, fn, MARK (arguments)
    p.op(0x28).str('storage').global('torch', STORAGE_NAMES[t.dtype]).str(String(i)).str('cpu').int(numelOf(t.shape)).op(0x74); // pid tuple
    p.op(0x51); // BINPERSID
    p.int(0).tuple([...t.shape]).tuple(contiguousStrides(t.shape)).op(0x89); // offset, size, stride, requires_grad=False
    p.global('collections', 'OrderedDict').op(0x29, 0x52); // OrderedDict() (backward hooks)
    p.op(0x74, 0x52); // TUPLE, REDUCE
  });
  return p.op(0x75, 0x73, 0x2e).bytes(); // SETITEMS (model dict), SETITEM (top dict), STOP
}

/**
 * Writes `tensors` (state-dict key -> source, in that order) to a new file `path` as torch.save would
 * ({"model": state dict}; archive folder `archive`). `convert` may change each block's bytes (e.g. a dtype
 * cast: it gets the source dtype's bytes and returns `dtype`'s bytes); by default the source bytes are copied.
 */
export function writePthStateDict(path: string, tensors: Map<string, TensorSource>, opts: {
  archive?: string;
  dtype?: (src: TensorSource) => FileDtype;
  convert?: (src: TensorSource, bytes: Uint8Array) => Uint8Array;
} = {}): void {
  const archive = opts.archive ?? 'consolidated';
  const keys = [...tensors.keys()];
  const outDtype = (t: TensorSource): FileDtype => opts.dtype?.(t) ?? t.dtype;
  const views = keys.map((k) => ({ ...tensors.get(k)!, dtype: outDtype(tensors.get(k)!) })); // the tensors as written
  const zip = new ZipWriter(path);
  try {
    const pkl = stateDictPickle(views, keys);
    zip.addEntry(`${archive}/data.pkl`, pkl.length, (w) => w(pkl));
    const order = new TextEncoder().encode('little');
    zip.addEntry(`${archive}/byteorder`, order.length, (w) => w(order));
    keys.forEach((k, i) => {
      const src = tensors.get(k)!;
      const inElem = FILE_DTYPE_BYTES[src.dtype], outElem = FILE_DTYPE_BYTES[views[i].dtype];
      const numel = numelOf(src.shape);
      zip.addEntry(`${archive}/data/${i}`, numel * outElem, (w) => {
        const perBlock = Math.max(1, Math.floor(BLOCK_BYTES / inElem));
        for (let e = 0; e < numel; e += perBlock) {
          const n = Math.min(perBlock, numel - e);
          const raw = src.read(e * inElem, n * inElem);
          w(opts.convert ? opts.convert(src, raw) : raw);
        }
      });
    });
    const version = new TextEncoder().encode('3\n');
    zip.addEntry(`${archive}/version`, version.length, (w) => w(version));
    zip.finish();
  } catch (e) {
    zip.abort();
    throw e;
  }
}
