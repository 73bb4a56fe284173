/** Pieces the step pages of several hosted areas share (interaction, account, email links). */
import { IDP_WEBAUTHN_URL, SIMPLEWEBAUTHN_BROWSER_URL } from '../assets/urls.js';
import { esc } from './layout.js';

/** The scripts of a page with a WebAuthn ceremony (both same-origin files, see PAGE_CSP_SCRIPTS). */
export const WEBAUTHN_SCRIPTS = `<script src="${esc(SIMPLEWEBAUTHN_BROWSER_URL)}"></script>
<script src="${esc(IDP_WEBAUTHN_URL)}"></script>`;

/** Styles of the step pages only (the shared layout stays small). */
export const STEP_STYLE = `<style>
.note{color:#444;font-size:.9rem}
.secret{font-family:ui-monospace,monospace;word-break:break-all;background:#f4f5f7;padding:.5rem;border-radius:4px}
.qr{display:block;margin:1rem auto;width:200px;height:200px}
ol.codes{columns:2;font-family:ui-monospace,monospace;font-size:1.05rem}
.ok{border:1px solid #1e7b34;background:#e8f5ec;color:#14502a;padding:.75rem;border-radius:4px}
</style>`;

export function recoveryCodesBlock(codes: string[]): string {
  return `<p>Keep these recovery codes somewhere safe. Each one signs you in once if you lose your device. They are shown only now.</p>
<ol class="codes" aria-label="Recovery codes">${codes.map((c) => `<li><code>${esc(c)}</code></li>`).join('')}</ol>`;
}
