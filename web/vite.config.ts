// Vite build of the patient view (npm run build:web -> web/dist, served by `serve` at /).
// Preact through the automatic JSX runtime (no preset needed); everything is bundled: no CDN,
// no external fonts, so the page works offline and behind a strict proxy.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // Deterministic file names are not needed: index.html names the hashed assets.
    chunkSizeWarningLimit: 2000,
  },
});
