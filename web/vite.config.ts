// Vite build of the patient view (npm run build:web -> web/dist, served by `serve` at /).
// Preact through the automatic JSX runtime (no preset needed); everything is bundled: no CDN,
// no external fonts, so the page works offline and behind a strict proxy.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { patientSearchParameterBundle } from './patient-search-parameters.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

const VIRTUAL = 'virtual:patient-search-parameters';

/** The page's search parameters (patient-search-parameters.ts), as a module the page imports. */
function patientSearchParameters(): Plugin {
  return {
    name: 'patient-search-parameters',
    resolveId: (id) => (id === VIRTUAL ? `\0${VIRTUAL}` : undefined),
    load(id) {
      if (id !== `\0${VIRTUAL}`) return undefined;
      return `export default ${JSON.stringify(patientSearchParameterBundle())};`;
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [patientSearchParameters()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    // Deterministic file names are not needed: index.html names the hashed assets.
    chunkSizeWarningLimit: 2000,
  },
});
