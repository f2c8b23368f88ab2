// The page's side of the worker protocol (protocol.ts): `call` sends a request and resolves with its result;
// `on` receives the request's progress, token and property events as they come.
import type { Reply, Request } from './protocol';

type Handler = (r: Reply) => void;

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; on?: Handler }>();
let nextId = 1;

worker.onmessage = (e: MessageEvent<Reply>) => {
  const r = e.data;
  const p = pending.get(r.id);
  if (!p) return;
  if (r.type === 'result') { pending.delete(r.id); p.resolve(r.value); }
  else if (r.type === 'error') { pending.delete(r.id); p.reject(new Error(r.message)); }
  else p.on?.(r);
};

worker.onerror = (e) => {
  const err = new Error(`the compute worker failed: ${e.message || 'it could not start'}`);
  for (const p of pending.values()) p.reject(err);
  pending.clear();
};

export function call<T>(req: Request, on?: Handler, extra: Record<string, unknown> = {}, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, on });
    worker.postMessage({ id, req, ...extra }, transfer);
  });
}
