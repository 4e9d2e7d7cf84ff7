import type { Context } from 'koa';
import proxyaddr from 'proxy-addr';

/**
 * The client's address as the throttle keys it: the socket's peer, or — only when that peer is a
 * listed trusted proxy (COMMS_API_TRUSTED_PROXIES) — the nearest untrusted address of
 * X-Forwarded-For (`proxy-addr` walks the list from the right, stopping at the first address not
 * trusted). Requests over the admin socket have no address: `local`.
 */
export function clientAddressOf(trustedProxies: readonly string[]): (ctx: Context) => string {
  const trust = proxyaddr.compile([...trustedProxies]);
  return (ctx) => {
    if (!ctx.req.socket.remoteAddress) return 'local';
    if (trustedProxies.length === 0) return ctx.req.socket.remoteAddress;
    return proxyaddr(ctx.req, trust);
  };
}
