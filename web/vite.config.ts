// Vite builds the demo page: `npm run web` serves it with hot reload, `npm run web:build` writes static files
// to web/dist. The library is used from its TypeScript source through the package's browser entry, exactly
// what `import ... from 'blt-ts'` resolves to in a browser bundle.
//
// Cross-origin isolation (the two headers below) gives the page SharedArrayBuffer, so the CPU backend can run
// its threaded kernels on Web Workers; a host that does not send them still serves a working page, on one thread.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const repo = fileURLToPath(new URL('..', import.meta.url));
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { alias: { 'blt-ts': fileURLToPath(new URL('../src/index.browser.ts', import.meta.url)) } },
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
