import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Debian Chromium as every browser suite starts it: no sandbox (root), no GPU, and no
 * background networking, component updates or sync (the machine has no internet, and those
 * connections would be refused at every start). The app listens on 127.0.0.1 only, so
 * `localhost` (the WebAuthn RP ID) is mapped there and ::1 is never tried.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP localhost 127.0.0.1',
    ],
  });
}
