import { randomInt } from 'node:crypto';
import { PROTO_VERSION, type PinPatternPolicy } from '../../pin-pattern/pin-pattern-policy.js';
import { esc } from '../kit/layout.js';

/** The digits 0–9 in a fresh random order (Fisher–Yates with the CSPRNG). */
export function shuffledDigits(): number[] {
  const d = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  for (let i = d.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [d[i], d[j]] = [d[j], d[i]];
  }
  return d;
}

/** A digit drawn as an image (SVG), so the keypad's layout is not text a script can scrape. */
function digitImage(digit: number): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><text x="20" y="30" font-size="28" text-anchor="middle" font-family="DejaVu Sans,Arial,sans-serif" fill="#1d1f23">${digit}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

export const PIN_PATTERN_STYLE = `<style>
.pp fieldset{border:1px solid #ccd;border-radius:6px;margin:1rem 0 0;padding:.5rem .75rem .75rem}
.pp legend{font-weight:600;padding:0 .25rem}
.pp .pin-display{display:block;text-align:center;font-size:1.6rem;letter-spacing:.3em;min-height:2.2rem;font-family:ui-monospace,monospace}
.pp .keypad{display:grid;grid-template-columns:repeat(3,1fr);gap:.5rem;margin-top:.5rem}
.pp .keypad button{margin:0;padding:.35rem;background:#fff;border:1px solid var(--primary);border-radius:8px;min-height:3.2rem}
.pp .keypad button img{width:2.2rem;height:2.2rem;display:block;margin:0 auto;pointer-events:none}
.pp .keypad .tool{color:var(--primary);font-size:.9rem}
.pp .grid-wrap{position:relative;margin:.5rem auto 0;max-width:16rem;touch-action:none;user-select:none}
.pp .grid{display:grid;gap:0;aspect-ratio:1/1}
.pp .grid button{margin:0;padding:0;background:transparent;border:0;display:flex;align-items:center;justify-content:center;aspect-ratio:1/1;touch-action:none}
.pp .grid button span{width:1.1rem;height:1.1rem;border-radius:50%;background:#8a8f98;display:block;pointer-events:none}
.pp .grid button[aria-pressed=true] span{background:var(--primary);box-shadow:0 0 0 .35rem color-mix(in srgb,var(--primary) 25%,transparent)}
.pp .grid-wrap svg{position:absolute;inset:0;width:100%;height:100%;pointer-events:none}
.pp .hint{font-size:.85rem;color:#444;margin:.25rem 0 0;text-align:center}
.pp .row{display:flex;gap:.5rem}.pp .row button{margin-top:.5rem}
</style>`;

/** The keypad (digits shuffled on every render) and the grid the policy asks for. */
export function pinPatternFields(policy: PinPatternPolicy): string {
  const pin = policy.factors.includes('PIN')
    ? `<fieldset data-pin><legend>PIN (${policy.pinSize} digits)</legend>
<output class="pin-display" data-pin-display aria-live="polite"></output>
<div class="keypad" role="group" aria-label="Keypad, digits in a random order">
${shuffledDigits()
  .map(
    (d) =>
      `<button type="button" data-digit="${d}"><img src="${digitImage(d)}" alt="${d}"></button>`,
  )
  .join('\n')}
<button type="button" class="tool" data-pin-back aria-label="Delete the last digit">⌫</button>
<button type="button" class="tool" data-pin-clear>Clear</button>
</div>
</fieldset>`
    : '';
  const n = policy.gridSize;
  const points = Array.from({ length: n * n }, (_, i) => {
    const label = `Point ${i + 1}, row ${Math.floor(i / n) + 1}, column ${(i % n) + 1}`;
    return `<button type="button" data-point="${i}" aria-pressed="false" aria-label="${label}"><span></span></button>`;
  }).join('');
  const pattern = policy.factors.includes('PATTERN')
    ? `<fieldset data-pattern><legend>Pattern</legend>
<div class="grid-wrap"><div class="grid" data-pattern-grid style="grid-template-columns:repeat(${n},1fr)">${points}</div><svg aria-hidden="true"><polyline data-pattern-line fill="none" stroke="currentColor" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"></polyline></svg></div>
<p class="hint" data-pattern-status aria-live="polite">Draw a pattern through at least ${policy.minPatternPoints} points, or press the points in order with Tab and Enter.</p>
<div class="row"><button type="button" class="secondary" data-pattern-clear>Clear pattern</button></div>
</fieldset>`
    : '';
  return `${pin}\n${pattern}`;
}

/** The form's data attributes the page script reads (policy and the JSON routes it calls). */
export function pinPatternData(policy: PinPatternPolicy, routes: Record<string, string>): string {
  const attrs = Object.entries(routes).map(([k, v]) => `data-${k}="${esc(v)}"`);
  return [
    ...attrs,
    `data-factors="${esc(policy.factors.join(','))}"`,
    `data-pin-size="${policy.pinSize}"`,
    `data-grid="${policy.gridSize}"`,
    `data-min-points="${policy.minPatternPoints}"`,
    `data-show-pin="${policy.showPinWhenTyping}"`,
    `data-proto="${esc(PROTO_VERSION)}"`,
  ].join(' ');
}

/** What the user is asked for, in words: "PIN and pattern". */
export const factorWords = (policy: PinPatternPolicy) =>
  policy.factors.map((f) => (f === 'PIN' ? 'PIN' : 'pattern')).join(' and ');
