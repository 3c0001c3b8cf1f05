/* Vite build of the Calendox web app: web/dist with hashed file names under /assets/, served by
 * `calendox serve` from CALENDOX_WEB_ROOT. `npm run dev` proxies the API to a local server. */
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fullcalendarCss } from './tools/fullcalendar-css.ts';

export default defineConfig({
  plugins: [fullcalendarCss(), preact()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    /* The page's Content-Security-Policy refuses data: URLs: every asset is a file. */
    assetsInlineLimit: 0,
  },
  /* Pre-bundling would skip the plugin above in `npm run dev`; FullCalendar is plain ESM anyway. */
  optimizeDeps: {
    exclude: [
      '@fullcalendar/core',
      '@fullcalendar/daygrid',
      '@fullcalendar/timegrid',
      '@fullcalendar/interaction',
    ],
  },
  server: {
    proxy: {
      '/api': process.env.CALENDOX_DEV_API ?? 'http://127.0.0.1:8080',
      '/oauth': process.env.CALENDOX_DEV_API ?? 'http://127.0.0.1:8080',
    },
  },
});
