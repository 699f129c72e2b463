// A real OpenID Connect provider for the tests: panva's certified oidc-provider on 127.0.0.1.
//
// Usage: OIDC_IDP_NODE_MODULES=.peers/oidc_idp/node_modules node server.mjs CONFIG.json
// (ES modules ignore NODE_PATH, so the package is imported from that directory by path.)
//
// CONFIG.json (written by tests/peers/oidc_idp.py):
//   { "port": 4567, "issuer": "http://127.0.0.1:4567",
//     "clients": [{ "client_id": "...", "client_secret": "...", "redirect_uris": ["..."] }],
//     "accounts_file": "/tmp/.../accounts.json" }
// accounts.json, re-read at every sign-in so that a test can change the people between runs:
//   { "<login>": { "password": "...", "claims": { "sub": "...", "email": "...", "hd": "..." } } }
//
// The IdP shows its own sign-in form (/interaction/<uid>): login and password, as a school's
// IdP would. Every claim of an account is released in the ID token and at userinfo (like
// Google's hd and Entra ID's tid/oid, which are in the ID token). Consent is implied: the
// portal is the board's own first-party client.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.OIDC_IDP_NODE_MODULES;
const { default: Provider } = await import(
  pathToFileURL(join(modules, 'oidc-provider', 'lib', 'index.js')).href
);

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function accounts() {
  return JSON.parse(readFileSync(config.accounts_file, 'utf8'));
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Claims any account may carry; all are released under the always-requested "openid" scope.
const CLAIMS = [
  'sub', 'email', 'email_verified', 'name', 'preferred_username', 'given_name', 'family_name',
  'hd', 'tid', 'oid', 'sourcedId', 'upn',
];

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    ...client,
  })),
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: CLAIMS },
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = Object.values(accounts()).find((a) => a.claims.sub === id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ ...account.claims, sub: id }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(CLAIMS);
    await grant.save();
    return grant;
  },
  ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 300, AuthorizationCode: 60, IdToken: 300 },
});

function loginPage(res, uid, message) {
  res.writeHead(message ? 401 : 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>テストIdP ログイン</title></head>
<body><main><h1>テストIdP</h1>${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>ID <input name="login" autocomplete="username"></label>
<label>パスワード <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">サインイン</button></form></main></body></html>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const callback = provider.callback();
const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;

createServer(async (req, res) => {
  const match = interaction.exec(new URL(req.url, config.issuer).pathname);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') {
      return await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    }
    if (req.method === 'GET' && !match[2]) return loginPage(res, details.uid, '');
    if (req.method !== 'POST' || !match[2]) {
      res.writeHead(405).end();
      return undefined;
    }
    const form = await readForm(req);
    const account = accounts()[form.get('login') || ''];
    if (!account || account.password !== form.get('password')) {
      return loginPage(res, details.uid, 'IDかパスワードがちがいます');
    }
    return await provider.interactionFinished(
      req, res, { login: { accountId: account.claims.sub } }, { mergeWithLastSubmission: false },
    );
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`interaction error: ${err.message}`);
    return undefined;
  }
}).listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`oidc idp listening on ${config.issuer}\n`);
});
