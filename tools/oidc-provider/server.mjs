// A loopback OAuth 2.0 server for Tokentray's interop tests: panva's
// oidc-provider (pinned in package.json), with the client-credentials grant
// and RFC 8707 resource indicators enabled. Started by the Go package
// oidctest:
//
//   node server.mjs CONFIG.json
//
// CONFIG.json (written by oidctest, mode 0600, holds the test secrets):
//   {"clients": [oidc-provider client metadata...],
//    "resources": {"https://api.example/": {"scope": "a b", "ttl": 3600}},
//    "ttl": {"client-id": 300}}          // ClientCredentials lifetime per client (default 3600)
//
// It listens on 127.0.0.1 on a port the kernel picks, and prints one line of
// JSON on stdout when ready: {"issuer": "http://127.0.0.1:PORT"}. It stops
// on SIGTERM or SIGINT, or when stdin closes (its parent died).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const resources = config.resources ?? {};
const ttl = config.ttl ?? {};

// A fresh RS256 key per run: tokens are JWTs only for resource servers.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'tokentray-test' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [jwk] },
    scopes: ['openid', ...new Set(Object.values(resources).flatMap((r) => r.scope.split(' '))), ...(config.scopes ?? [])],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined, // no resource asked: an opaque token
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, resource) => {
          const r = resources[resource];
          if (!r) {
            throw new errors.InvalidTarget(`unknown resource ${resource}`);
          }
          return {
            scope: r.scope,
            audience: resource,
            accessTokenTTL: r.ttl ?? 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      ClientCredentials: (ctx, token, client) => ttl[client.clientId] ?? 3600,
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
