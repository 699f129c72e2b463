// A real SAML 2.0 identity provider for the tests: auth0's `samlp` (which signs with
// `saml` / `xml-crypto`) behind Node's own http server, on 127.0.0.1.
//
// Started by tests/peers/saml_idp.py:  node server.js CONFIG.json
// with NODE_PATH=.peers/saml_idp/node_modules (installed by `scripts/bootstrap.sh dev`).
//
// CONFIG.json: {"port", "issuer", "cert" (PEM path), "key" (PEM path),
//   "sps": {"<SP entity id>": "<its ACS URL>"},
//   "users": {"<login>": {"password", "nameid", "attributes": {"<name>": "value" | [..]}}}}
//
// Endpoints:
//   GET  /metadata              the IdP's metadata (entity id, signing certificate, SSO URLs)
//   GET  /sso?SAMLRequest=..    HTTP-Redirect binding: the IdP's own sign-in page
//   POST /sso                   the sign-in form: checks the password, answers the SP's ACS
//                               with an auto-posting form carrying the SAMLResponse
//   POST /_control/next         JSON {"mode": ..., ...}: how the next response is made (once)
//   PUT  /_control/users        JSON users, replacing the configured ones
//   PUT  /_control/sps          JSON {"<SP entity id>": "<ACS URL>"}, replacing the configured
//   GET  /_control/responses    JSON list of every response issued (for replays)
//
// Modes of the next response (the tests' negative cases):
//   normal          assertion signed (rsa-sha256), Response unsigned: what real IdPs send
//   unsigned        neither the assertion nor the Response signed
//   response_only   the Response signed, the assertion inside it not
//   altered         signed, then one attribute/NameID value replaced ("from" -> "to")
//   audience        signed, for another audience ("audience")
//   expired         signed by an IdP whose clock is "seconds" (default 7200) behind
//   recipient       signed, SubjectConfirmationData Recipient and the Response's Destination
//                   elsewhere ("url"; only the Recipient with "keep_destination": true)
'use strict';

const fs = require('fs');
const http = require('http');
const querystring = require('querystring');
const moment = require('moment');
const samlp = require('samlp');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const cert = fs.readFileSync(config.cert, 'utf8');
const key = fs.readFileSync(config.key, 'utf8');
let users = config.users || {};
let nextMode = { mode: 'normal' };
const issued = [];

// The attributes a user has, exactly as the test named them (no claim renaming).
function ProfileMapper(user) {
  if (!(this instanceof ProfileMapper)) return new ProfileMapper(user);
  this.user = user;
}
ProfileMapper.prototype.getClaims = function () {
  return Object.assign({}, this.user.attributes || {});
};
ProfileMapper.prototype.getNameIdentifier = function () {
  return {
    nameIdentifier: this.user.nameid,
    nameIdentifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  };
};
ProfileMapper.prototype.metadata = [];

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 1024 * 1024) { reject(new Error('body too large')); req.destroy(); }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseAuthnRequest(req) {
  return new Promise((resolve, reject) => {
    samlp.parseRequest(req, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

function loginPage(params, message) {
  const hidden = ['SAMLRequest', 'RelayState', 'SigAlg', 'Signature']
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name])}">`)
    .join('\n');
  return `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>テスト IdP サインイン</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>テスト IdP（SAML）</h1>
${message ? `<p role="alert" id="idp-error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/sso">
${hidden}
<p><label for="username">ユーザー名</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">パスワード</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit" id="idp-sign-in">サインイン</button></p>
</form></main></body></html>`;
}

function postForm(acs, samlResponse, relayState) {
  return `<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>送信中…</title></head>
<body><form method="post" action="${escapeHtml(acs)}" id="saml-post">
<input type="hidden" name="SAMLResponse" value="${escapeHtml(samlResponse)}">
<input type="hidden" name="RelayState" value="${escapeHtml(relayState || '')}">
<noscript><button type="submit">続ける</button></noscript>
</form><script>document.getElementById('saml-post').submit();</script></body></html>`;
}

function buildResponse(user, request, mode) {
  const acs = config.sps[request.issuer];
  const options = {
    issuer: config.issuer,
    cert: cert,
    key: key,
    profileMapper: ProfileMapper,
    signatureAlgorithm: 'rsa-sha256',
    digestAlgorithm: 'sha256',
    audience: request.issuer,
    recipient: acs,
    destination: acs,
    inResponseTo: request.id,
    lifetimeInSeconds: 300,
    signAssertion: true,
    signResponse: false,
  };
  if (mode.mode === 'unsigned') options.signAssertion = false;
  if (mode.mode === 'response_only') { options.signAssertion = false; options.signResponse = true; }
  if (mode.mode === 'audience') options.audience = mode.audience;
  if (mode.mode === 'recipient') {
    options.recipient = mode.url;
    if (!mode.keep_destination) options.destination = mode.url;
  }
  const realNow = moment.now;
  if (mode.mode === 'expired') {
    const behind = (mode.seconds || 7200) * 1000;
    moment.now = () => Date.now() - behind;
  }
  return new Promise((resolve, reject) => {
    samlp.getSamlResponse(options, user, (err, xml) => {
      moment.now = realNow;
      if (err) return reject(err);
      let text = String(xml);
      if (mode.mode === 'altered') {
        const altered = text.split(`>${mode.from}<`).join(`>${mode.to}<`);
        if (altered === text) return reject(new Error(`altered: "${mode.from}" not in the response`));
        text = altered;
      }
      resolve({ acs: options.destination, xml: text });
    });
  });
}

async function handleSso(req, res, url) {
  let params;
  if (req.method === 'GET') {
    params = Object.fromEntries(url.searchParams);
  } else {
    params = querystring.parse(await readBody(req));
    req.body = params;
  }
  req.query = req.method === 'GET' ? params : {};
  if (!params.SAMLRequest) return send(res, 400, 'text/plain; charset=utf-8', 'no SAMLRequest');
  let request;
  try {
    request = await parseAuthnRequest(req);
  } catch (err) {
    return send(res, 400, 'text/plain; charset=utf-8', `bad SAMLRequest: ${err.message}`);
  }
  if (!request || !config.sps[request.issuer]) {
    return send(res, 403, 'text/plain; charset=utf-8', `unknown service provider ${request && request.issuer}`);
  }
  if (req.method === 'GET') return send(res, 200, 'text/html; charset=utf-8', loginPage(params));
  const user = users[params.username];
  if (!user || user.password !== params.password) {
    return send(res, 200, 'text/html; charset=utf-8', loginPage(params, 'ユーザー名かパスワードがちがいます'));
  }
  const mode = nextMode;
  nextMode = { mode: 'normal' };
  const built = await buildResponse(user, request, mode);
  const samlResponse = Buffer.from(built.xml, 'utf8').toString('base64');
  issued.push({ mode: mode.mode, acs: built.acs, SAMLResponse: samlResponse, RelayState: params.RelayState || '' });
  return send(res, 200, 'text/html; charset=utf-8', postForm(built.acs, samlResponse, params.RelayState));
}

const metadata = samlp.metadata({
  issuer: config.issuer,
  cert: cert,
  profileMapper: ProfileMapper,
  redirectEndpointPath: '/sso',
  postEndpointPath: '/sso',
  logoutEndpointPaths: {},
});

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host || '127.0.0.1'}`);
  try {
    if (url.pathname === '/metadata' && req.method === 'GET') {
      req.originalUrl = req.url;
      req.protocol = 'http';
      res.set = (name, value) => res.setHeader(name, value);
      res.send = (body) => res.end(body);
      return metadata(req, res);
    }
    if (url.pathname === '/sso' && (req.method === 'GET' || req.method === 'POST')) {
      return await handleSso(req, res, url);
    }
    if (url.pathname === '/_control/next' && req.method === 'POST') {
      nextMode = JSON.parse(await readBody(req));
      return send(res, 204, 'text/plain', '');
    }
    if (url.pathname === '/_control/users' && req.method === 'PUT') {
      users = JSON.parse(await readBody(req));
      return send(res, 204, 'text/plain', '');
    }
    if (url.pathname === '/_control/sps' && req.method === 'PUT') {
      config.sps = JSON.parse(await readBody(req));
      return send(res, 204, 'text/plain', '');
    }
    if (url.pathname === '/_control/responses' && req.method === 'GET') {
      return send(res, 200, 'application/json', JSON.stringify(issued));
    }
    if (url.pathname === '/_health') return send(res, 200, 'text/plain', 'ok');
    return send(res, 404, 'text/plain', 'not found');
  } catch (err) {
    console.error(err);
    return send(res, 500, 'text/plain; charset=utf-8', `IdP error: ${err.message}`);
  }
});

server.listen(config.port, '127.0.0.1', () => {
  console.log(`saml idp listening on 127.0.0.1:${config.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
