/*
 * A calendar's colour as a small square. The colour comes from the provider, so it cannot be a
 * class; it is set through the CSSOM (allowed by the page's Content-Security-Policy, unlike a style
 * attribute) and only when it is a plain hex colour.
 */
import { safeColor } from '../calendars';

export function Swatch({ color }: { color: string | null }) {
  return (
    <span
      class="swatch"
      aria-hidden="true"
      ref={(el) => {
        const c = safeColor(color);
        if (el && c) el.style.setProperty('--swatch', c);
      }}
    />
  );
}
