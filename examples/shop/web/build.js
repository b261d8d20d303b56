'use strict';
// Build step: src/index.html -> dist/index.html (stamps the build time).
const fs = require('node:fs');
const path = require('node:path');

const src = path.join(__dirname, 'src', 'index.html');
const outDir = path.join(__dirname, 'dist');
const out = path.join(outDir, 'index.html');

const html = fs
  .readFileSync(src, 'utf8')
  .replaceAll('__BUILD_TIME__', new Date().toISOString());
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(out, html);
console.log(`built ${path.relative(__dirname, out)} (${Buffer.byteLength(html)} bytes)`);
