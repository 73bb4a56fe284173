import { cspWithFrames, frontChannelUrl } from './front-channel-logout.js';

const ISS = 'https://id.example.com/acme';

describe('front-channel logout', () => {
  it('adds iss and sid only when the client asked for the session', () => {
    const uri = 'https://app.example.com/fc?keep=1';
    expect(frontChannelUrl({ frontchannel_logout_uri: uri }, ISS, 'sid-1')).toBe(uri);
    const url = new URL(
      frontChannelUrl(
        { frontchannel_logout_uri: uri, frontchannel_logout_session_required: true },
        ISS,
        'sid-1',
      )!,
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({ keep: '1', iss: ISS, sid: 'sid-1' });
  });

  it('frames nothing but http(s) URLs', () => {
    expect(frontChannelUrl({}, ISS, 'sid')).toBeUndefined();
    expect(frontChannelUrl({ frontchannel_logout_uri: 'javascript:alert(1)' }, ISS, 'sid')).toBe(
      undefined,
    );
    expect(frontChannelUrl({ frontchannel_logout_uri: 'not a url' }, ISS, 'sid')).toBeUndefined();
  });

  it('allows frames from exactly the origins named, once each', () => {
    expect(
      cspWithFrames("default-src 'none'", [
        'https://a.example.com/x?sid=1',
        'https://a.example.com/y',
        'http://127.0.0.1:8080/z',
      ]),
    ).toBe("default-src 'none'; frame-src https://a.example.com http://127.0.0.1:8080");
  });
});
