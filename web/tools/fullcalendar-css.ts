/*
 * Calendox serves its pages with a Content-Security-Policy that allows neither inline styles nor
 * data: URLs ("default-src 'self'"). FullCalendar 6 puts its CSS into the page at run time through
 * a <style> element, which that policy blocks (the calendar would be unstyled), and its icon font
 * is a data: URL inside that CSS. This plugin moves both to build time: each FullCalendar module's
 * `injectStyles(css)` call becomes an import of a real .css file written beside the node_modules
 * cache, with the font written out as its own file, so Vite bundles the rules into the app's
 * stylesheet and the font as a hashed file under /assets/. The run-time <style> element is never
 * created. The patterns are checked: if a FullCalendar upgrade changes them, the build fails
 * instead of shipping an unstyled calendar.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/* The modules that inject CSS, by the end of their path, and the sheet each one gets. */
const INJECTING: [string, string][] = [
  ['@fullcalendar/core/internal-common.js', 'core'],
  ['@fullcalendar/daygrid/internal.js', 'daygrid'],
  ['@fullcalendar/timegrid/internal.js', 'timegrid'],
];

const CSS_DECL = /var (css_\w+) = ("(?:[^"\\]|\\.)*");/;
const DATA_URL = /url\((["']?)data:([\w.+/-]+)(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)\1\)/g;
const REGISTER_DOCUMENT = /\n\s*registerStylesRoot\(document\);/;
const ENSURE_FN = /function ensureElHasStyles\(el\) \{/;

const EXTENSIONS: Record<string, string> = {
  'application/x-font-ttf': 'ttf',
  'font/ttf': 'ttf',
  'font/woff': 'woff',
  'font/woff2': 'woff2',
  'image/svg+xml': 'svg',
  'image/png': 'png',
};

/* Writes the data: URLs of css out as files in dir and points the CSS at them. */
function extractDataUrls(css: string, sheet: string, dir: string): string {
  let n = 0;
  return css.replace(DATA_URL, (_all, _quote: string, mime: string, base64: string) => {
    const ext = EXTENSIONS[mime];
    if (!ext) throw new Error(`FullCalendar CSS has a data: URL of unknown type "${mime}"`);
    const file = `fullcalendar-${sheet}-${++n}.${ext}`;
    writeFileSync(join(dir, file), Buffer.from(base64, 'base64'));
    return `url("./${file}")`;
  });
}

export function fullcalendarCss(): Plugin {
  let outDir = '';
  let rootRelative = '';
  return {
    name: 'calendox-fullcalendar-css',
    enforce: 'pre',
    configResolved(config) {
      rootRelative = 'node_modules/.cache/calendox-fullcalendar-css';
      outDir = join(config.root, rootRelative);
      mkdirSync(outDir, { recursive: true });
    },
    transform(code, id) {
      const path = id.split('?')[0];
      const entry = INJECTING.find(([suffix]) => path.endsWith(suffix));
      if (!entry) return null;
      const sheet = entry[1];
      const decl = CSS_DECL.exec(code);
      if (!decl) this.error(`FullCalendar module "${id}" no longer declares its CSS as expected`);
      const [, variable, literal] = decl;
      const call = `injectStyles(${variable});`;
      if (!code.includes(call)) this.error(`FullCalendar module "${id}" no longer calls ${call}`);
      const css = extractDataUrls(JSON.parse(literal) as string, sheet, outDir);
      writeFileSync(join(outDir, `${sheet}.css`), css);

      let out = code.replace(call, '').replace(decl[0], '');
      out = `import '/${rootRelative}/${sheet}.css';\n` + out;
      if (sheet === 'core') {
        /* The core creates an empty <style> in <head> at load and before each render; under the
         * policy that element is refused (and reported). With the rules bundled it has no use. */
        if (!REGISTER_DOCUMENT.test(out) || !ENSURE_FN.test(out))
          this.error('FullCalendar core no longer registers its style root as expected');
        out = out
          .replace(REGISTER_DOCUMENT, '')
          .replace(ENSURE_FN, 'function ensureElHasStyles(el) { return;');
      }
      return { code: out, map: null };
    },
  };
}
