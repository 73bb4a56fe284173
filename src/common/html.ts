/**
 * The one HTML escaper of the app (hosted pages and mails alike): every value that reaches
 * HTML, text or attribute, goes through it. A leaf module: it imports nothing.
 */
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}
