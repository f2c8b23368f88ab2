// A restricted reader for the pickles inside PyTorch checkpoints (`data.pkl` of a torch.save zip).
//
// Python's pickle format is a small stack machine (opcodes documented in CPython's Lib/pickletools.py). A
// general unpickler imports and calls whatever the stream names, which is why loading an untrusted .pth can
// run code. This one never imports or calls anything: it knows the opcodes a state dict needs (containers,
// strings, numbers, memo, marks, persistent ids) and five names, each replaced by a plain value here:
//
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) -> TensorRef
//   torch._utils._rebuild_parameter(tensor, requires_grad, hooks)                                  -> the TensorRef
//   collections.OrderedDict()                                                                      -> a Map
//   torch.<Float|BFloat16|Half|...>Storage, torch.UntypedStorage   (only inside a persistent id)   -> StorageRef
//
// A persistent id `('storage', <storage type>, key, location, numel)` names the zip entry `data/<key>` that
// holds the storage's bytes; the bytes are never read here. Any other opcode or name is refused with an
// Error that names the file, the opcode or name, and its byte position in the pickle.

/** A Python tuple (lists are JS arrays, dicts and OrderedDicts are Maps). */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A name the pickle refers to (GLOBAL): only the whitelisted ones below ever exist. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  toString(): string { return `${this.module}.${this.name}`; }
}

/** A tensor storage: `numel` elements of `dtype`, in zip entry `data/<key>`. */
export class StorageRef {
  constructor(readonly typeName: string, readonly dtype: TorchDtype, readonly key: string, readonly location: string,
    readonly numel: number) {}
}

/** A tensor view of a storage (what _rebuild_tensor_v2 would build), not read. */
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly storageOffset: number, readonly size: readonly number[],
    readonly stride: readonly number[]) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue = PyKey | PyValue[] | PyTuple | Map<PyKey, PyValue> | PyGlobal | StorageRef | TensorRef;

/** Element types of torch storages, with their sizes in bytes. */
export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' |
  'complex64' | 'complex128';
export const TORCH_DTYPE_BYTES: Record<TorchDtype, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
  complex64: 8, complex128: 16,
};

/** torch.<name> storage classes (the typed storages torch.save still names, and the untyped one) -> dtype. */
const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', ComplexFloatStorage: 'complex64', ComplexDoubleStorage: 'complex128', UntypedStorage: 'uint8',
};

const ALLOWED_GLOBALS = new Set([
  'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', 'collections.OrderedDict',
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`), 'torch.storage.UntypedStorage',
]);

/** Largest pickle accepted (a state dict's pickle holds names and shapes only: a few MB for billions of weights). */
export const MAX_PICKLE_BYTES = 1 << 30;

function storageDtype(g: PyGlobal): { dtype: TorchDtype; typeName: string } | null {
  if (g.module === 'torch' && g.name in STORAGE_TYPES) return { dtype: STORAGE_TYPES[g.name], typeName: g.name };
  if (g.module === 'torch.storage' && g.name === 'UntypedStorage') return { dtype: 'uint8', typeName: g.name };
  return null;
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a dict';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyGlobal) return `the name ${v}`;
  if (v instanceof TensorRef) return 'a tensor';
  if (v instanceof StorageRef) return 'a storage';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : `${typeof v} ${String(v)}`;
}

/**
 * Unpickles `bytes` (the pickle of `source`, named in errors) into plain values. Refuses any opcode or global
 * outside the state-dict subset described above, before anything is built from it.
 */
export function readPickle(bytes: Uint8Array, source: string): PyValue {
  if (bytes.length > MAX_PICKLE_BYTES) throw new Error(`${source}: pickle of ${bytes.length} bytes exceeds the ${MAX_PICKLE_BYTES}-byte limit`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: PyValue[] = [];
  const marks: number[] = []; // stack height at each open MARK
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opAt = 0;

  const fail = (msg: string): never => { throw new Error(`${source}: pickle byte ${opAt}: ${msg}`); };
  const need = (n: number): void => { if (pos + n > bytes.length) fail(`truncated pickle (needs ${n} more bytes at byte ${pos})`); };
  const u8 = (): number => { need(1); return bytes[pos++]; };
  const u16 = (): number => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const i32 = (): number => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const lo = view.getUint32(pos, true), hi = view.getUint32(pos + 4, true); pos += 8;
    if (hi >= 2 ** 21) fail('length too large');
    return hi * 2 ** 32 + lo;
  };
  const take = (n: number): Uint8Array => { need(n); const b = bytes.subarray(pos, pos + n); pos += n; return b; };
  const text = (n: number): string => {
    const b = take(n);
    try { return utf8.decode(b); } catch { return fail('string is not valid UTF-8'); }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle (unterminated GLOBAL name)');
    const s = text(end - pos);
    pos++; // the '\n'
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => { if (stack.length === 0) fail('stack underflow'); return stack[stack.length - 1]; };
  /** The values pushed since the last MARK (the mark is removed). */
  const popMark = (): PyValue[] => {
    const h = marks.pop();
    if (h === undefined) return fail('no MARK to pop to');
    return stack.splice(h);
  };
  const dictKey = (k: PyValue): PyKey => {
    if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k)) return k as PyKey;
    return fail(`dict key ${describe(k)} is not supported (state dict keys are strings or numbers)`);
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof Map)) fail(`SETITEM(S) on ${describe(target)}, expected a dict`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as Map<PyKey, PyValue>).set(dictKey(items[i]), items[i + 1]);
  };
  const appendTo = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail(`APPEND(S) on ${describe(target)}, expected a list`);
    (target as PyValue[]).push(...items);
  };
  const int = (v: PyValue, what: string): number => {
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    return fail(`${what} is ${describe(v)}, expected an integer`);
  };
  const intTuple = (v: PyValue, what: string): number[] => {
    if (!(v instanceof PyTuple)) return fail(`${what} is ${describe(v)}, expected a tuple of integers`);
    return v.items.map((x) => int(x, what));
  };

  /** REDUCE: call one of the whitelisted callables (as the value it would build; nothing is executed). */
  const reduce = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal)) return fail(`REDUCE of ${describe(fn)}, not a callable`);
    if (!(args instanceof PyTuple)) return fail(`REDUCE of ${fn} with ${describe(args)} instead of an argument tuple`);
    const a = args.items;
    switch (fn.toString()) {
      case 'torch._utils._rebuild_tensor_v2': {
        if (a.length < 4 || !(a[0] instanceof StorageRef)) fail(`${fn} expects (storage, offset, size, stride, ...), got ${a.length} arguments`);
        return new TensorRef(a[0] as StorageRef, int(a[1], 'storage offset'), intTuple(a[2], 'size'), intTuple(a[3], 'stride'));
      }
      case 'torch._utils._rebuild_parameter':
        if (a.length < 1 || !(a[0] instanceof TensorRef)) fail(`${fn} expects a tensor as its first argument`);
        return a[0];
      case 'collections.OrderedDict':
        if (a.length !== 0) fail(`${fn} called with ${a.length} arguments (only OrderedDict() is supported)`);
        return new Map<PyKey, PyValue>();
      default:
        return fail(`REDUCE of ${fn} is refused (only tensor rebuilds and OrderedDict() are allowed in a state dict)`);
    }
  };

  /** BINPERSID: ('storage', storage type, key, location, numel) -> StorageRef. */
  const persistentLoad = (pid: PyValue): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      return fail(`persistent id ${describe(pid)} is not a ('storage', type, key, location, numel) tuple`);
    }
    const [, type, key, location, numel] = pid.items;
    const st = type instanceof PyGlobal ? storageDtype(type) : null;
    if (st === null) return fail(`persistent id names ${describe(type)}, not a torch storage type`);
    if (typeof key !== 'string' || typeof location !== 'string') return fail('persistent id key and location must be strings');
    return new StorageRef(st.typeName, st.dtype, key, location, int(numel, 'storage size'));
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: { const v = u8(); if (v < 2 || v > 5) fail(`pickle protocol ${v} is not supported (2-5)`); break; } // PROTO
      case 0x95: u64(); break; // FRAME (protocol 4 framing: the length of the next frame, nothing to do)
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: { const items = popMark(); stack.push(new PyTuple(items)); break; } // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x64: { const items = popMark(); const d = new Map<PyKey, PyValue>(); stack.push(d); setItems(d, items); break; } // DICT
      case 0x61: { const v = pop(); appendTo(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendTo(top(), items); break; } // APPENDS
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        const b = take(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} is not defined`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x63: case 0x93: { // GLOBAL 'module\nname\n', STACK_GLOBAL (module and name from the stack)
        let module: PyValue, name: PyValue;
        if (op === 0x63) { module = line(); name = line(); } else { name = pop(); module = pop(); }
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        const full = `${module as string}.${name as string}`;
        if (!ALLOWED_GLOBALS.has(full)) {
          fail(`global '${full}' is refused: a state dict only needs tensor rebuilds, storages and OrderedDict ` +
            `(this pickle would import and run '${full}')`);
        }
        stack.push(new PyGlobal(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(), fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x62: { // BUILD: only an OrderedDict's attribute dict (state_dict()._metadata); ignored, nothing is set
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map || state === null)) fail(`BUILD of ${describe(top())} is refused`);
        break;
      }
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) is not allowed in a state-dict pickle`);
    }
  }
}
