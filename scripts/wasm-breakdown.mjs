// Where the wasm's bytes go: each function body's size in the Code section, attributed to the
// crate (and, for peercall, the module) its name says it comes from, plus the other sections.
//
//   node scripts/wasm-breakdown.mjs FILE.wasm [--by-module] [--top N]
//
// FILE must keep its "name" section (scripts/size.sh --by-crate builds one that does). Rust
// symbols there are legacy-mangled (_ZN4core3fmt9Formatter3pad17h...E) or already demangled
// (core::fmt::Formatter::pad); generic functions show as <T as Trait>::method, attributed to the
// crate of the impl's type. Sizes are raw body bytes: compression does not split by function.
import { readFileSync } from 'node:fs';
import { WasmReader } from './wasm-reader.mjs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const byModule = args.includes('--by-module');
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 0;
if (!file) {
  console.error('usage: node scripts/wasm-breakdown.mjs FILE.wasm [--by-module] [--top N]');
  process.exit(2);
}

const bytes = readFileSync(file);
const r = new WasmReader(bytes);

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
  'start', 'element', 'code', 'data', 'datacount'];
const sections = [];
let importedFunctions = 0;
let bodies = [];
const functionNames = new Map();
while (!r.done) {
  const id = r.byte();
  const size = r.leb();
  const start = r.pos;
  const end = start + size;
  let label = SECTION_NAMES[id] ?? `section ${id}`;
  if (id === 0) {
    label = `custom "${r.name()}"`;
    if (label === 'custom "name"') {
      while (r.pos < end) {
        const sub = r.byte();
        const subSize = r.leb();
        const subEnd = r.pos + subSize;
        if (sub === 1) {
          const count = r.leb();
          for (let i = 0; i < count; i++) {
            const index = r.leb();
            functionNames.set(index, r.name());
          }
        }
        r.pos = subEnd;
      }
    }
  } else if (id === 2) {
    const count = r.leb();
    for (let i = 0; i < count; i++) {
      r.name(); r.name();
      const kind = r.byte();
      if (kind === 0) { r.leb(); importedFunctions++; }
      else if (kind === 1) { r.pos++; const flags = r.leb(); r.leb(); if (flags & 1) r.leb(); }
      else if (kind === 2) { const flags = r.leb(); r.leb(); if (flags & 1) r.leb(); }
      else if (kind === 3) { r.pos += 2; }
    }
  } else if (id === 10) {
    const count = r.leb();
    for (let i = 0; i < count; i++) {
      const bodySize = r.leb();
      bodies.push({ index: importedFunctions + i, size: bodySize });
      r.pos += bodySize;
    }
  }
  sections.push({ label, size: end - start });
  r.pos = end;
}

/** Legacy Rust mangling to its path components; other names as they are. */
function demangle(symbol) {
  const match = /^_?_ZN(.*)E$/.exec(symbol);
  if (!match) return symbol;
  const parts = [];
  let rest = match[1];
  while (rest.length) {
    const len = /^(\d+)/.exec(rest);
    if (!len) break;
    rest = rest.slice(len[1].length);
    parts.push(rest.slice(0, Number(len[1])));
    rest = rest.slice(Number(len[1]));
  }
  if (parts.length && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
  return parts.join('::').replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ')
    .replace(/\$RF\$/g, '&').replace(/\$C\$/g, ',').replace(/\.\./g, '::').replace(/\$u7b\$/g, '{')
    .replace(/\$u7d\$/g, '}').replace(/\$BP\$/g, '*').replace(/\$u5b\$/g, '[').replace(/\$u5d\$/g, ']');
}

// Primitive types whose inherent methods live in core (<char>::escape_debug_ext, <str>::find).
const PRIMITIVES = /^(char|str|bool|[iu](8|16|32|64|128|size)|f32|f64|\[.*\]|\(.*\))>/;

/** The crate a function belongs to, and for peercall its module (peercall::web::client). */
function owner(fullName) {
  const path = fullName.replace(/::h[0-9a-f]{16}$/, '').replace(/^(<|&|\*const |\*mut |mut |dyn )+/, '')
    .replace(/^([A-Za-z_][A-Za-z0-9_]*)\[[0-9a-f]+\]/, '$1');
  if (PRIMITIVES.test(path)) return 'core';
  const crate = /^([A-Za-z_][A-Za-z0-9_]*)::/.exec(path)?.[1];
  // wasm-bindgen's generated exports and their shims ("callclient_new externref shim"), and
  // its intrinsics (__wbindgen_*), have no Rust path.
  if (!crate) return /shim|^__wbindgen|^__wbg|^[a-z]+_[a-z_]+$/.test(path) ? '(wasm-bindgen exports, shims)' : `(other)`;
  if (crate !== 'peercall' || !byModule) return crate;
  // peercall::web::client::pump → peercall::web::client; peercall::protocol::parse_invite →
  // peercall::protocol.
  const parts = path.split(/ as |[<>{]/)[0].split('::');
  return parts.slice(0, ['web', 'call'].includes(parts[1]) ? 3 : 2).join('::');
}

const totals = new Map();
let named = 0;
for (const body of bodies) {
  const raw = functionNames.get(body.index);
  const full = raw ? demangle(raw) : '(no name)';
  body.name = full;
  if (raw) named++;
  const key = raw ? owner(full) : '(no name)';
  totals.set(key, (totals.get(key) ?? 0) + body.size);
}
const codeTotal = bodies.reduce((sum, b) => sum + b.size, 0);
if (!named) {
  console.error(`wasm-breakdown: ${file} has no function names (build it with the name section kept)`);
  process.exit(1);
}

const pad = (text, width) => String(text).padEnd(width);
const num = (n, width = 9) => String(n).padStart(width);
console.log(`sections of ${file} (${bytes.length} bytes):`);
for (const s of sections) console.log(`  ${pad(s.label, 28)}${num(s.size)}`);
console.log(`\ncode by ${byModule ? 'crate and peercall module' : 'crate'} (${bodies.length} functions, ${codeTotal} bytes):`);
for (const [key, size] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${pad(key, 32)}${num(size)}  ${(100 * size / codeTotal).toFixed(1).padStart(5)}%`);
}
if (top) {
  console.log(`\nlargest ${top} functions:`);
  for (const b of [...bodies].sort((a, b) => b.size - a.size).slice(0, top)) {
    console.log(`  ${num(b.size, 7)}  ${b.name.slice(0, 150)}`);
  }
}
