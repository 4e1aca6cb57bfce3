/**
 * Keeps alert rules from being used to reach internal services: a webhook target is refused when
 * its host is, or resolves to (any of its addresses), a private, loopback, link-local,
 * unique-local, CGNAT, multicast or unspecified address — IPv4 and IPv6, including IPv4-mapped
 * IPv6 such as ::ffff:127.0.0.1 — unless an allow-list entry (IP or CIDR) permits it.
 *
 * The check runs twice: before a request (`assertTargetAllowed`, also useful when a rule is
 * saved) and inside the request's DNS lookup (`guardedLookup`), so a name that re-resolves to a
 * private address between the two (DNS rebinding) is still refused; the connection goes to the
 * address that was checked.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { LogFlowError } from '../../common/errors.ts';

const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
];

const blocked = new BlockList();
for (const [net, prefix] of BLOCKED_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of BLOCKED_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** Expands an IPv6 address to its 8 16-bit groups (handles `::` and a dotted IPv4 tail). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((g) => Number.parseInt(g || '0', 16));
}

/**
 * The IPv4 address an IPv6 address carries, when it is IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::a.b.c.d); otherwise null.
 */
export function embeddedIPv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (g.length !== 8) return null;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 5) && g[5] === 0xffff;
  const compatible = zeros(0, 6) && (g[6] !== 0 || g[7] > 1);
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !compatible && !nat64) return null;
  return [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff].join('.');
}

export class TargetGuard {
  private readonly allowed = new BlockList();
  private readonly allowAll: boolean;

  /** `allowList`: IPs or CIDRs (`127.0.0.1`, `10.0.0.0/8`, `::1`); `*` disables the guard. */
  constructor(allowList: readonly string[] = []) {
    this.allowAll = allowList.includes('*');
    for (const entry of allowList) {
      if (entry === '*') continue;
      const [net, prefix] = entry.split('/');
      const family = isIP(net);
      if (family === 0) {
        throw new LogFlowError(
          'LF_ERR_CONFIG_INVALID',
          `Webhook allow-list entry is not an IP or CIDR: "${entry}"`,
        );
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.allowed.addAddress(net, type);
      else this.allowed.addSubnet(net, Number(prefix), type);
    }
  }

  /** True when connecting to this IP address is refused. */
  isForbidden(address: string): boolean {
    if (this.allowAll) return false;
    const family = isIP(address);
    if (family === 0) return true;
    if (family === 6) {
      const v4 = embeddedIPv4(address);
      if (v4 !== null) return this.isForbidden(v4);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(address, type)) return false;
    return blocked.check(address, type);
  }

  /** Throws LF_ERR_WEBHOOK_TARGET_FORBIDDEN unless `url` is http(s) and every address of its host is allowed. */
  async assertTargetAllowed(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw forbidden(url, 'not a URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw forbidden(url, 'only http and https');
    if (parsed.username || parsed.password) throw forbidden(url, 'credentials in the URL');
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const addresses = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
    const bad = addresses.filter((a) => this.isForbidden(a));
    if (bad.length > 0) throw forbidden(url, `resolves to ${bad.join(', ')}`);
  }

  /** A `lookup` for http.request that refuses forbidden addresses at connect time. */
  readonly guardedLookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolveAll(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => this.isForbidden(a.address));
        if (bad) {
          callback(forbidden(hostname, `resolves to ${bad.address}`) as unknown as NodeJS.ErrnoException, []);
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });
}

function forbidden(url: string, why: string): LogFlowError {
  return new LogFlowError('LF_ERR_WEBHOOK_TARGET_FORBIDDEN', `Webhook target ${url} refused: ${why}`, {
    retriable: false,
  });
}
