'use strict';
// Shop web server, node's http module only:
//   GET /         dist/index.html (`npm run build`), else src/index.html
//   GET /health   {"status":"ok"}
//   /api/*        proxied to $API_URL with the /api prefix stripped
// Env: PORT (default 3000), HOST (default 0.0.0.0),
//      API_URL (default http://localhost:8000).
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const PORT = Number.parseInt(process.env.PORT || '3000', 10);
const HOST = process.env.HOST || '0.0.0.0';
const API_URL = new URL(process.env.API_URL || 'http://localhost:8000');
if (API_URL.protocol !== 'http:') {
  console.error(`API_URL must be an http:// URL, got ${API_URL.href}`);
  process.exit(1);
}
const INDEX = path.join(__dirname, 'dist', 'index.html');
// Without a build (e.g. the source bind-mounted in development) serve the source page.
const SOURCE_INDEX = path.join(__dirname, 'src', 'index.html');
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

function proxy(req, res) {
  // /api/items?x=1 -> {API_URL}/items?x=1 ; /api -> {API_URL}/
  const rest = req.url.slice('/api'.length);
  const target = new URL(API_URL);
  const basePath = target.pathname.replace(/\/$/, '');
  const suffix = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(k)) headers[k] = v;
  }
  headers.host = target.host;
  headers['x-forwarded-for'] = req.socket.remoteAddress || '';
  headers['x-forwarded-prefix'] = '/api';

  const upstream = http.request(
    {
      hostname: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: basePath + suffix,
      headers,
      timeout: 10000,
    },
    (up) => {
      const out = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (!HOP_BY_HOP.has(k)) out[k] = v;
      }
      res.writeHead(up.statusCode || 502, out);
      up.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (err) => {
    if (res.headersSent) {
      res.destroy(err);
    } else {
      sendJson(res, 502, { error: 'bad gateway', detail: err.message });
    }
  });
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost');
  if (pathname === '/api' || pathname.startsWith('/api/')) {
    proxy(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }
  if (pathname === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (pathname === '/' || pathname === '/index.html') {
    const file = fs.existsSync(INDEX) ? INDEX : SOURCE_INDEX;
    fs.readFile(file, (err, html) => {
      if (err) {
        sendJson(res, 500, { error: 'index.html missing: run `npm run build`' });
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': html.length,
      });
      res.end(req.method === 'HEAD' ? undefined : html);
    });
    return;
  }
  sendJson(res, 404, { error: 'not found' });
});

server.listen(PORT, HOST, () => {
  console.log(`shop-web listening on http://${HOST}:${PORT}, API at ${API_URL.href}`);
});

// Exit promptly on `docker stop` (node as PID 1 ignores signals by default).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
