import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the hosted pages' scripts come from (served by assets.controller.ts). */
const BROWSER_PACKAGE = '@simplewebauthn/browser';
const browserRoot = dirname(dirname(createRequire(import.meta.url).resolve(BROWSER_PACKAGE)));
export const BROWSER_BUNDLE = join(browserRoot, 'dist', 'bundle', 'index.umd.min.js');
export const BROWSER_VERSION = (
  JSON.parse(readFileSync(join(browserRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * Where pages load @simplewebauthn/browser from (it defines `SimpleWebAuthnBrowser`). The
 * version in the query makes the long cache safe across upgrades.
 */
export const SIMPLEWEBAUTHN_BROWSER_URL = `/assets/simplewebauthn-browser.js?v=${BROWSER_VERSION}`;
export const IDP_WEBAUTHN_URL = '/assets/idp-webauthn.js';
