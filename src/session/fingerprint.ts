import type { SessionRequest } from '../client-id/types.js';

const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'edge'],
  [/\b(OPR|Opera)\//, 'opera'],
  [/\bFirefox\/|\bFxiOS\//, 'firefox'],
  [/\bChrome\/|\bCriOS\/|\bChromium\//, 'chrome'],
  [/\bSafari\//, 'safari'],
  [/^curl\//, 'curl'],
];

const PLATFORMS: readonly [RegExp, string][] = [
  [/\bAndroid\b/, 'android'],
  [/\b(iPhone|iPad|iPod)\b/, 'ios'],
  [/\bWindows\b/, 'windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macos'],
  [/\bCrOS\b/, 'chromeos'],
  [/\bLinux\b/, 'linux'],
];

/**
 * A coarse class of the client's user agent, e.g. `chrome/windows`: the browser family
 * and the platform, never versions, so browser updates do not end sessions. For
 * `SessionManager`'s `fingerprint` option.
 *
 * @example
 * ```ts
 * new SessionManager({ clientIds, container, fingerprint: userAgentClass });
 * ```
 */
export function userAgentClass(request: SessionRequest): string {
  const agent = request.header('user-agent') ?? '';
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1] ?? 'other';
  const platform = PLATFORMS.find(([pattern]) => pattern.test(agent))?.[1] ?? 'other';
  return `${browser}/${platform}`;
}
