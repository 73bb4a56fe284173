import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { esc } from '../kit/layout.js';

/** The OPAQUE client: @serenity-kit/opaque's ES module, WebAssembly inlined, served from here. */
const opaqueRoot = dirname(dirname(createRequire(import.meta.url).resolve('@serenity-kit/opaque')));
export const OPAQUE_BUNDLE = join(opaqueRoot, 'esm', 'index.js');
export const OPAQUE_VERSION = (
  JSON.parse(readFileSync(join(opaqueRoot, 'package.json'), 'utf8')) as { version: string }
).version;
export const OPAQUE_CLIENT_URL = `/assets/opaque-client.js?v=${OPAQUE_VERSION}`;
export const IDP_PIN_PATTERN_URL = `/assets/idp-pin-pattern.js?v=${OPAQUE_VERSION}`;

/** The page's one script tag (a module; it imports the OPAQUE client itself). */
export const PIN_PATTERN_SCRIPTS = `<script type="module" src="${esc(IDP_PIN_PATTERN_URL)}"></script>`;

/**
 * The keypad, the pattern grid and the OPAQUE exchange of the hosted login page, for forms
 * marked `data-pin-pattern`. The PIN and pattern become one password in the tenant's order
 * (the same encoding as secretOf in src/pin-pattern/pin-pattern-policy.ts); it never leaves
 * the page. Sign-in: challenge → finishLogin → authenticate → the nonce goes into the form,
 * which posts as usual. Sign-up (where allowed): register/start → register, then the same.
 * The pattern is drawn with a pointer (mouse, pen, touch) or entered by pressing the points in
 * order (Tab and Enter or Space).
 */
export const PIN_PATTERN_SCRIPT = `import { client, ready } from ${JSON.stringify(OPAQUE_CLIENT_URL)};
const KEY_STRETCHING = 'memory-constrained';
function encode(factors, pin, points, grid) {
  return factors.map(function (f) {
    return f === 'PIN' ? 'pin:' + pin : 'pattern:' + grid + ':' + points.join('-');
  }).join('|');
}
async function postJson(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body)
  });
  let json = null;
  try { json = await r.json(); } catch (e) { json = null; }
  return { status: r.status, body: json };
}
function shuffle(list) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const r = new Uint32Array(1);
    crypto.getRandomValues(r);
    const j = r[0] % (i + 1);
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
  return a;
}
function setup(form) {
  const ds = form.dataset;
  const factors = ds.factors.split(',');
  const pinSize = Number(ds.pinSize);
  const n = Number(ds.grid);
  const minPoints = Number(ds.minPoints);
  const showPin = ds.showPin === 'true';
  const state = { pin: '', pattern: [], signup: false, busy: false };
  const errorBox = form.querySelector('[data-pp-error]');
  const submit = form.querySelector('[data-pp-submit]');
  const submitText = submit.textContent;
  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }
  // Keypad
  const display = form.querySelector('[data-pin-display]');
  const keypad = form.querySelector('.keypad');
  function drawPin() {
    if (!display) return;
    display.textContent = showPin ? state.pin : '\\u2022'.repeat(state.pin.length);
    display.setAttribute('aria-label', state.pin.length + ' of ' + pinSize + ' digits entered');
  }
  function reshuffle() {
    if (!keypad) return;
    const digits = Array.from(keypad.querySelectorAll('[data-digit]'));
    const tools = Array.from(keypad.querySelectorAll('.tool'));
    shuffle(digits).concat(tools).forEach(function (b) { keypad.appendChild(b); });
  }
  form.querySelectorAll('[data-digit]').forEach(function (b) {
    b.addEventListener('click', function () {
      if (state.pin.length < pinSize) state.pin += b.dataset.digit;
      drawPin();
    });
  });
  const back = form.querySelector('[data-pin-back]');
  if (back) back.addEventListener('click', function () { state.pin = state.pin.slice(0, -1); drawPin(); });
  const clearPin = form.querySelector('[data-pin-clear]');
  if (clearPin) clearPin.addEventListener('click', function () { state.pin = ''; drawPin(); });
  drawPin();
  // Pattern grid
  const grid = form.querySelector('[data-pattern-grid]');
  const line = form.querySelector('[data-pattern-line]');
  const status = form.querySelector('[data-pattern-status]');
  let drawing = false;
  function drawPattern() {
    if (!grid) return;
    const box = grid.getBoundingClientRect();
    const dots = grid.querySelectorAll('[data-point]');
    dots.forEach(function (d) {
      d.setAttribute('aria-pressed', String(state.pattern.indexOf(Number(d.dataset.point)) >= 0));
    });
    line.parentNode.setAttribute('viewBox', '0 0 ' + box.width + ' ' + box.height);
    line.setAttribute('points', state.pattern.map(function (i) {
      const r = dots[i].getBoundingClientRect();
      return (r.left - box.left + r.width / 2) + ',' + (r.top - box.top + r.height / 2);
    }).join(' '));
    line.style.color = getComputedStyle(form).getPropertyValue('--primary') || '#2f5bd3';
    status.textContent = state.pattern.length
      ? state.pattern.length + ' points' + (state.pattern.length < minPoints ? ' (at least ' + minPoints + ')' : '')
      : 'Draw a pattern through at least ' + minPoints + ' points, or press the points in order with Tab and Enter.';
  }
  function add(i) {
    if (state.pattern.indexOf(i) < 0) { state.pattern.push(i); drawPattern(); }
  }
  if (grid) {
    grid.addEventListener('pointerdown', function (e) {
      const d = e.target.closest('[data-point]');
      if (!d) return;
      e.preventDefault();
      drawing = true;
      state.pattern = [];
      add(Number(d.dataset.point));
    });
    grid.addEventListener('pointermove', function (e) {
      if (!drawing) return;
      const el = document.elementFromPoint(e.clientX, e.clientY);
      const d = el && el.closest ? el.closest('[data-point]') : null;
      if (d && grid.contains(d)) add(Number(d.dataset.point));
    });
    window.addEventListener('pointerup', function () { drawing = false; });
    window.addEventListener('pointercancel', function () { drawing = false; });
    // The keyboard alternative: Enter or Space on a point (a click with no pointer) adds it.
    grid.querySelectorAll('[data-point]').forEach(function (d) {
      d.addEventListener('click', function (e) { if (e.detail === 0) add(Number(d.dataset.point)); });
    });
    form.querySelector('[data-pattern-clear]').addEventListener('click', function () {
      state.pattern = []; drawPattern();
    });
    window.addEventListener('resize', drawPattern);
    drawPattern();
  }
  // Sign-up mode
  const mode = form.querySelector('[data-pp-mode]');
  const signupOnly = form.querySelector('[data-signup-only]');
  if (mode) mode.addEventListener('click', function () {
    state.signup = !state.signup;
    signupOnly.hidden = !state.signup;
    form.querySelector('input[name="email"]').required = state.signup;
    mode.textContent = state.signup ? 'I already have an account' : 'New here? Create an account with a PIN';
    submit.textContent = state.signup ? 'Create account' : submitText;
  });
  function reset(message) {
    state.pin = ''; state.pattern = []; drawPin(); if (grid) drawPattern(); reshuffle();
    state.busy = false; submit.disabled = false;
    if (message) fail(message);
  }
  async function signIn(username, password) {
    const start = client.startLogin({ password: password });
    const c = await postJson(ds.challenge, { username: username, cipherKey: start.startLoginRequest });
    if (c.status === 429) return reset('Too many attempts. Try again later.');
    if (c.status !== 200) return reset('The sign-in could not start. Reload the page and try again.');
    const done = client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse: c.body.challenge_data,
      password: password,
      keyStretching: KEY_STRETCHING
    });
    if (!done) return reset('The username, PIN or pattern is incorrect.');
    const a = await postJson(ds.authenticate, {
      username: username,
      cipherKey: start.startLoginRequest,
      challenge_id: c.body.challenge_id,
      challenge_data: done.finishLoginRequest
    });
    if (a.status !== 200) return reset('The username, PIN or pattern is incorrect.');
    form.querySelector('input[name="oid_nonce"]').value = a.body.nonce;
    form.submit();
  }
  // Enrolment after another sign-in: the step's sealed state proves who is enrolling; through
  // a mailed link (reset, an admin's enrolment link): the link's token does.
  function stepFields() {
    const out = {};
    ['csrf', 'pending', 'token'].forEach(function (n) {
      const el = form.querySelector('input[name="' + n + '"]');
      if (el) out[n] = el.value;
    });
    return out;
  }
  async function enrol(password) {
    const start = client.startRegistration({ password: password });
    const r = await postJson(ds.enrolStart, Object.assign(stepFields(), { registration_request: start.registrationRequest }));
    if (r.status !== 200) return reset('The PIN could not be saved. Reload the page and try again.');
    const done = client.finishRegistration({
      clientRegistrationState: start.clientRegistrationState,
      registrationResponse: r.body.registration_response,
      password: password,
      keyStretching: KEY_STRETCHING
    });
    const f = await postJson(ds.enrol, Object.assign(stepFields(), {
      encrypted_commitment: done.registrationRecord, proto_version: ds.proto
    }));
    if (f.status !== 200) return reset('The PIN could not be saved. Reload the page and try again.');
    form.submit();
  }
  // A signed-in user proves the PIN/pattern again (the account page, before an email change);
  // the form's own post then makes the change, which spends the proof.
  async function aux(password) {
    const start = client.startLogin({ password: password });
    const c = await postJson(ds.auxChallenge, Object.assign(stepFields(), { cipherKey: start.startLoginRequest }));
    if (c.status === 429) return reset('Too many attempts. Try again later.');
    if (c.status !== 200) return reset('The check could not start. Reload the page and try again.');
    const done = client.finishLogin({
      clientLoginState: start.clientLoginState,
      loginResponse: c.body.challenge_data,
      password: password,
      keyStretching: KEY_STRETCHING
    });
    if (!done) return reset('The PIN or pattern is incorrect.');
    const a = await postJson(ds.auxAuthenticate, Object.assign(stepFields(), {
      challenge_id: c.body.challenge_id,
      challenge_data: done.finishLoginRequest
    }));
    if (a.status !== 200) return reset('The PIN or pattern is incorrect.');
    form.submit();
  }
  async function signUp(username, email, password) {
    const start = client.startRegistration({ password: password });
    const r = await postJson(ds.registerStart, { username: username, email: email, registration_request: start.registrationRequest });
    if (r.status !== 200) return reset((r.body && r.body.detail) || 'The account could not be created.');
    const done = client.finishRegistration({
      clientRegistrationState: start.clientRegistrationState,
      registrationResponse: r.body.registration_response,
      password: password,
      keyStretching: KEY_STRETCHING
    });
    const f = await postJson(ds.register, {
      username: username, email: email,
      encrypted_commitment: done.registrationRecord, proto_version: ds.proto
    });
    if (f.status !== 201) {
      return reset(f.status === 409 ? 'That username or email is already in use.' : (f.body && f.body.detail) || 'The account could not be created.');
    }
    return signIn(username, password);
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (state.busy) return;
    errorBox.hidden = true;
    const enrolling = ds.mode === 'enrol';
    const proving = ds.mode === 'aux';
    const loginField = form.querySelector('input[name="login"]');
    const emailField = form.querySelector('input[name="email"]');
    const username = loginField ? loginField.value.trim() : '';
    const email = emailField ? emailField.value.trim() : '';
    if (!enrolling && !proving && !username) return fail('Enter your username.');
    if (factors.indexOf('PIN') >= 0 && state.pin.length !== pinSize) return fail('Enter all ' + pinSize + ' digits of your PIN.');
    if (factors.indexOf('PATTERN') >= 0 && state.pattern.length < minPoints) return fail('Draw a pattern through at least ' + minPoints + ' points.');
    if (state.signup && !email) return fail('Enter your email address.');
    const password = encode(factors, state.pin, state.pattern, n);
    state.busy = true; submit.disabled = true; submit.textContent = 'Checking\\u2026';
    ready.then(function () {
      if (enrolling) return enrol(password);
      if (proving) return aux(password);
      return state.signup ? signUp(username, email, password) : signIn(username, password);
    }).catch(function () {
      reset('Something went wrong. Reload the page and try again.');
    }).finally(function () { submit.textContent = state.signup ? 'Create account' : submitText; });
  });
  form.closest('[data-pin-pattern-section]').hidden = false;
}
document.querySelectorAll('form[data-pin-pattern]').forEach(setup);
`;
