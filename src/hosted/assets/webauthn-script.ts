/**
 * The one script of the hosted pages (served at /assets/idp-webauthn.js, never inline, so the
 * CSP allows only same-origin scripts). It drives @simplewebauthn/browser for forms marked
 * `data-passkey-login` (sign in; conditional UI when the form has `data-autofill` and the page
 * a `webauthn` autocomplete field) and `data-passkey-register` (add a passkey): it fetches
 * options from `data-options` with the form's CSRF fields, runs the ceremony, and submits the
 * form with the result as an ordinary post, so the server answers with a normal page.
 */
export const WEBAUTHN_SCRIPT = `(function () {
  'use strict';
  var W = window.SimpleWebAuthnBrowser;
  if (!W || !W.browserSupportsWebAuthn()) return;
  function options(form, login) {
    var body = new URLSearchParams();
    ['csrf', 'pending'].forEach(function (n) {
      var el = form.querySelector('input[name="' + n + '"]');
      if (el) body.set(n, el.value);
    });
    if (login) body.set('login', login);
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { accept: 'application/json' }
    }).then(function (r) {
      // An old sign-in: the server names where to sign in again before a passkey is added.
      if (r.status === 401) return r.json().then(function (j) {
        if (!j || !j.reauthenticate) throw new Error('Sign in again, then try again.');
        window.location.assign(j.reauthenticate);
        return new Promise(function () {});
      });
      if (!r.ok) throw new Error('The passkey request failed. Reload the page and try again.');
      return r.json();
    });
  }
  function fail(form, err) {
    var el = form.querySelector('[data-passkey-error]');
    if (!el || (err && err.name === 'AbortError')) return;
    el.textContent = err && err.name === 'NotAllowedError'
      ? 'The passkey request was cancelled or timed out.'
      : (err && err.message) || 'Something went wrong.';
    el.hidden = false;
  }
  function send(form, o, response) {
    form.querySelector('input[name="challenge_id"]').value = o.challenge_id;
    form.querySelector('input[name="response"]').value = JSON.stringify(response);
    form.submit();
  }
  function reveal(form) {
    var section = form.closest('[data-passkey-section]');
    if (section) section.hidden = false;
    var button = form.querySelector('[data-passkey-start]');
    if (button) button.hidden = false;
    return button;
  }
  document.querySelectorAll('form[data-passkey-login]').forEach(function (form) {
    function run(autofill) {
      // A username typed in the login field narrows the ceremony to that user's passkeys.
      var field = document.querySelector('input[name="login"]');
      var login = !autofill && field && field.value.trim() ? field.value.trim() : '';
      return options(form, login).then(function (o) {
        return W.startAuthentication({ optionsJSON: o.options, useBrowserAutofill: autofill })
          .then(function (r) { send(form, o, r); });
      });
    }
    var button = reveal(form);
    if (button) button.addEventListener('click', function () {
      run(false).catch(function (e) { fail(form, e); });
    });
    if (form.hasAttribute('data-autofill') && document.querySelector('input[autocomplete~="webauthn"]')) {
      W.browserSupportsWebAuthnAutofill().then(function (ok) {
        if (ok) run(true).catch(function () {});
      });
    }
  });
  document.querySelectorAll('form[data-passkey-register]').forEach(function (form) {
    var button = reveal(form);
    if (button) button.addEventListener('click', function () {
      options(form).then(function (o) {
        return W.startRegistration({ optionsJSON: o.options }).then(function (r) { send(form, o, r); });
      }).catch(function (e) { fail(form, e); });
    });
  });
})();
`;
