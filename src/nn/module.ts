/**
 * Module: a container of named tensors (parameters) and child modules, like torch.nn.Module but with no magic:
 * the names are simply the object's field names, walked in declaration order. A field holding a Tensor is a
 * parameter; a field holding a Module (or an array of Modules) is a child, named by field (and index).
 * So a model written with HF's field names (`layers[0].self_attn.q_proj.weight`) has HF's state-dict keys
 * (`layers.0.self_attn.q_proj.weight`), which is what makes checkpoints load without a mapping table.
 * Two more field kinds exist for embedding tables too large for one tensor: a BlockedTable (row blocks, each a
 * tensor; src/nn/blocked-table.ts) and a DiskTable (left in the checkpoint file; src/nn/disk-table.ts). Each is
 * one checkpoint key (`stateEntries`); only a BlockedTable's blocks are tensors (`namedTensors`).
 */
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { shapeToString } from '../tensor/shape.js';
import { isHalf, type Device } from '../tensor/dtype.js';
import { getBackend } from '../backend/backend.js';
import { float32ToHalf } from '../tensor/half.js';
import { BlockedTable } from './blocked-table.js';
import { DiskTable } from './disk-table.js';

// [doc:module]
export class Module {
  /** Training mode (dropout etc.); BLT has no dropout, but the flag is part of the contract. */
  training = true;

  /**
   * What a checkpoint stores, one entry per key, in declaration order: a field holding a Tensor, a table stored
   * in row blocks (BlockedTable) or a table left on disk (DiskTable); Modules and arrays of Modules are walked.
   */
  stateEntries(prefix = ''): [string, StateValue][] {
    const out: [string, StateValue][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (isStateValue(value)) out.push([name, value]);
      else if (value instanceof Module) out.push(...value.stateEntries(name + '.'));
      else if (Array.isArray(value)) {
        value.forEach((v, i) => { if (v instanceof Module) out.push(...v.stateEntries(`${name}.${i}.`)); });
      }
    }
    return out;
  }

  /**
   * Every tensor of this module and its children, with dotted names, in declaration order. A table in row blocks
   * contributes each block (named `key[start:end]` when there are several); a table on disk holds no tensor.
   */
  namedTensors(prefix = ''): [string, Tensor][] {
    return this.stateEntries(prefix).flatMap(([name, v]): [string, Tensor][] =>
      v instanceof Tensor ? [[name, v]] : v instanceof BlockedTable ? v.namedBlocks(name) : []);
  }

  /** Trainable tensors (requiresGrad) with their names. */
  namedParameters(prefix = ''): [string, Tensor][] {
    return this.namedTensors(prefix).filter(([, t]) => t.requiresGrad);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** name -> tensor for every tensor (trainable or frozen), for saving. */
  stateDict(prefix = ''): Map<string, Tensor> {
    return new Map(this.namedTensors(prefix));
  }

  /**
   * Copies values into this module's tensors (in place, so optimizers keep working). Keys and shapes are those
   * of `stateEntries` (a table in row blocks is one key; its blocks are filled from row ranges of the value).
   * Checks every name and shape before writing anything: a mismatch throws naming the key and both shapes, and
   * nothing is changed. 16-bit tensors receive the values rounded to their format.
   */
  loadStateDict(values: Map<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, opts: { strict?: boolean; prefix?: string } = {}): void {
    const strict = opts.strict ?? true;
    const own = new Map(this.stateEntries(opts.prefix ?? ''));
    const problems: string[] = [];
    for (const [name, t] of own) {
      const v = values.get(name);
      if (v === undefined) { problems.push(`missing key '${name}' (expected shape ${shapeToString(t.shape)})`); continue; }
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        problems.push(`key '${name}': checkpoint shape ${shapeToString(v.shape)} != model shape ${shapeToString(t.shape)}`);
      }
      if (t instanceof DiskTable) problems.push(`key '${name}': the model reads this table from disk; values cannot be loaded into it`);
      if (!(t instanceof Tensor) && v instanceof Tensor && v.device !== 'cpu') problems.push(`key '${name}': a table in row blocks loads from CPU values, got '${v.device}'`);
    }
    if (strict) for (const name of values.keys()) if (!own.has(name)) problems.push(`unexpected key '${name}'`);
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.length} problem(s):\n  ${problems.slice(0, 20).join('\n  ')}`);
    for (const [name, t] of own) {
      const v = values.get(name)!;
      if (t instanceof Tensor) { copyValues(name, t, v); continue; }
      if (!(t instanceof BlockedTable)) continue;
      const flat = v instanceof Tensor ? v.dataSync() : v.data;
      t.blocks.forEach((b, i) => {
        const from = t.starts[i] * t.dim, to = from + b.size;
        copyValues(name, b, { shape: b.shape, data: ArrayBuffer.isView(flat) ? (flat as Float32Array).subarray(from, to) : Array.prototype.slice.call(flat, from, to) as number[] });
      });
    }
  }

  train(on = true): this {
    this.forEachModule((m) => { m.training = on; });
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const t of this.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
  }

  /**
   * Why this module cannot be trained, or null: it holds inference storage, a table read from disk or a 16-bit
   * (bfloat16/float16) weight, which has no gradient to receive.
   */
  untrainable(): string | null {
    const disk = this.stateEntries().find(([, v]) => v instanceof DiskTable);
    if (disk) return `'${disk[0]}' is read from disk on demand and cannot be trained; load the checkpoint with hashTables: 'memory'`;
    const half = this.namedTensors().find(([, t]) => isHalf(t.dtype));
    if (half) {
      return `'${half[0]}' ${shapeToString(half[1].shape)} is ${half[1].dtype} (16-bit storage, for inference) ` +
        `and cannot be trained; load the checkpoint with dtype: 'float32' to train`;
    }
    return null;
  }

  /** Freezes (or unfreezes) every tensor of this module; unfreezing an untrainable() module is refused. */
  requiresGrad(on: boolean): this {
    const why = on ? this.untrainable() : null;
    if (why) throw new Error(`requiresGrad: ${why}`);
    for (const [, t] of this.namedTensors()) t.requiresGrad = on;
    return this;
  }

  /** Moves every tensor (and table) to `device` (uploads; for GPU -> CPU use moduleToCpu). */
  to(device: Device): this {
    this.replaceState((_, v) => (v instanceof Tensor ? moveTensor(v, device) : v.to(device)));
    return this;
  }

  /** Number of scalar values in all tensors and tables (optionally only trainable ones). */
  numel(trainableOnly = false): number {
    if (trainableOnly) return this.namedParameters().reduce((s, [, t]) => s + t.size, 0);
    return this.stateEntries().reduce((s, [, v]) => s + v.shape[0] * (v.shape.length > 1 ? v.shape.slice(1).reduce((a, b) => a * b, 1) : 1), 0);
  }

  /** @internal replaces every state entry with fn(key, entry). */
  replaceState(fn: (key: string, v: StateValue) => StateValue, prefix = ''): void {
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (isStateValue(value)) (this as Record<string, unknown>)[key] = fn(name, value);
      else if (value instanceof Module) value.replaceState(fn, name + '.');
      else if (Array.isArray(value)) value.forEach((v, i) => { if (v instanceof Module) v.replaceState(fn, `${name}.${i}.`); });
    }
  }

  /** @internal applies fn to every tensor (and every block of a table), replacing it with the result. */
  replaceTensors(fn: (t: Tensor) => Tensor): void {
    this.replaceState((_, v) => (v instanceof Tensor ? fn(v) : v instanceof BlockedTable ? v.mapBlocks(fn) : v));
  }

  private forEachModule(fn: (m: Module) => void): void {
    fn(this);
    for (const value of Object.values(this)) {
      if (value instanceof Module) value.forEachModule(fn);
      else if (Array.isArray(value)) for (const v of value) if (v instanceof Module) v.forEachModule(fn);
    }
  }
}

/** Makes a trainable parameter: kept (never disposed by scopes) and requiring grad. */
export function parameter(t: Tensor, requiresGrad = true): Tensor {
  t.requiresGrad = requiresGrad;
  return keep(t);
}

/** Copies every tensor of a module back to the CPU (async because GPU reads are). */
export async function moduleToCpu(m: Module): Promise<void> {
  const moved = new Map<Tensor, Tensor>();
  for (const [, t] of m.namedTensors()) {
    if (t.device === 'cpu') continue;
    const host = await t.data(); // 16-bit tensors come back as float32 values, re-encoded exactly below
    const be = getBackend('cpu');
    const storage = isHalf(t.dtype) ? be.uploadHalf(float32ToHalf(t.dtype, host), t.dtype) : be.upload(host);
    const n = keep(new Tensor(storage, t.shape, t.requiresGrad));
    n.name = t.name;
    moved.set(t, n);
  }
  m.replaceState((_, v) => {
    if (v instanceof DiskTable) return v.to('cpu');
    const swap = (t: Tensor): Tensor => { const n = moved.get(t); if (!n) return t; t.dispose(); return n; };
    return v instanceof Tensor ? swap(v) : v.mapBlocks(swap);
  });
}

/** A state-dict entry: a tensor, a table in row blocks, or a table left on disk. */
export type StateValue = Tensor | BlockedTable | DiskTable;

function isStateValue(v: unknown): v is StateValue {
  return v instanceof Tensor || v instanceof BlockedTable || v instanceof DiskTable;
}

/** A CPU tensor uploaded to `device` (kept, same name and requiresGrad; the CPU copy is disposed). */
function moveTensor(t: Tensor, device: Device): Tensor {
  if (t.device === device) return t;
  if (t.device !== 'cpu') throw new Error(`Module.to: reading '${t.device}' tensors back needs 'await moduleToCpu(module)'`);
  const be = getBackend(device);
  const storage = isHalf(t.dtype) ? be.uploadHalf(t.halfBits(), t.dtype) : be.upload(t.dataSync());
  const moved = keep(new Tensor(storage, t.shape, t.requiresGrad));
  moved.name = t.name;
  t.dispose();
  return moved;
}

/** Copies host or tensor values of the same shape into t (rounded to t's 16-bit format if it has one). */
function copyValues(name: string, t: Tensor, v: Tensor | { shape: readonly number[]; data: ArrayLike<number> }): void {
  const be = getBackend(t.device);
  if (v instanceof Tensor) {
    if (v.device !== t.device) throw new Error(`loadStateDict: key '${name}' is on ${v.device}, model on ${t.device}`);
    const src = v.dtype === t.dtype ? v.storage : be.cast(v.storage, t.dtype);
    be.copyInto(t.storage, src);
    if (src !== v.storage) be.dispose(src);
    return;
  }
  const up = isHalf(t.dtype) ? be.uploadHalf(float32ToHalf(t.dtype, v.data), t.dtype)
    : be.upload(t.dtype === 'float64' ? Float64Array.from(v.data) : t.dtype === 'int32' ? Int32Array.from(v.data) : Float32Array.from(v.data));
  be.copyInto(t.storage, up);
  be.dispose(up);
}
