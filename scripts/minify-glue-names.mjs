// Shortens the names the wasm and its JS glue use to reach each other, in both files at once.
//
//   node scripts/minify-glue-names.mjs PKG_DIR [NAME]   (NAME: peercall, the default, or preflight;
//                                                       scripts/build-pkg.sh runs it on pkg/ for both)
//
// wasm-bindgen names every import after the JS function and a hash (__wbg_getTracks_2c7d5597...)
// and every export after the Rust item (callclient_new): ~170 names of ~40 bytes that appear in
// the wasm and again in peercall.js, and whose hashes brotli cannot compress. wasm-opt's
// --minify-imports-and-exports-and-modules renames them to one or two letters in the wasm; this
// script then renames them the same way in peercall.js (the import object's keys and module
// name, every `wasm.<export>`) and in peercall.d.ts (InitOutput's fields).
//
// The mapping is read from the two wasm files' import and export sections, which wasm-opt keeps
// in the same order, not from wasm-opt's printout. The rewrite is checked: every old import name
// must appear exactly once as a key, every old export name must be gone afterwards, and the new
// glue must define every import the new wasm asks for.
import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasmReader } from './wasm-reader.mjs';

const [dir, name = 'peercall'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/minify-glue-names.mjs PKG_DIR [NAME]');
  process.exit(2);
}
const wasmPath = join(dir, `${name}_bg.wasm`);
const jsPath = join(dir, `${name}.js`);
const dtsPath = join(dir, `${name}.d.ts`);
const fail = (message) => {
  console.error(`minify-glue-names: ${message}`);
  process.exit(1);
};

/** The import (module, field) pairs and export names of a wasm binary, in section order. */
function interfaceOf(path) {
  const r = new WasmReader(readFileSync(path));
  const limits = () => {
    const flags = r.leb();
    r.leb();
    if (flags & 1) r.leb();
  };
  const imports = [];
  const exports = [];
  while (!r.done) {
    const id = r.byte();
    const end = r.leb() + r.pos;
    if (id === 2) {
      for (let count = r.leb(); count > 0; count--) {
        const entry = { module: r.name(), field: r.name() };
        const kind = r.byte();
        if (kind === 0) r.leb();
        else if (kind === 1) { r.pos++; limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) r.pos += 2;
        else fail(`${path}: import kind ${kind} not understood`);
        imports.push(entry);
      }
    } else if (id === 7) {
      for (let count = r.leb(); count > 0; count--) {
        exports.push(r.name());
        r.pos++;
        r.leb();
      }
    }
    r.pos = end;
  }
  return { imports, exports };
}

const minified = `${wasmPath}.min`;
const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue']
  .map((f) => `--enable-${f}`);
execFileSync('wasm-opt', [wasmPath, ...features, '--minify-imports-and-exports-and-modules', '-o', minified], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const before = interfaceOf(wasmPath);
const after = interfaceOf(minified);
if (before.imports.length !== after.imports.length || before.exports.length !== after.exports.length) {
  fail('wasm-opt changed the number of imports or exports');
}

let js = readFileSync(jsPath, 'utf8');
let dts = readFileSync(dtsPath, 'utf8');
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// The import object: `    __wbg_getTracks_2c7d5597...: function(arg0) {` (keys quoted after, so a
// new name is always a valid key), and its module name `"./peercall_bg.js": import0`.
const modules = new Map();
before.imports.forEach((old, i) => {
  const now = after.imports[i];
  modules.set(old.module, now.module);
  const key = new RegExp(`(^|[\\s{,])${escape(old.field)}(?=\\s*:)`, 'gm');
  const found = js.match(key)?.length ?? 0;
  if (found !== 1) fail(`import ${old.field}: expected one key in ${name}.js, found ${found}`);
  js = js.replace(key, `$1${JSON.stringify(now.field)}`);
});
for (const [old, now] of modules) {
  const key = new RegExp(`${escape(JSON.stringify(old))}(?=\\s*:)`, 'g');
  if (!key.test(js)) fail(`import module ${old} not found in ${name}.js`);
  js = js.replace(key, JSON.stringify(now));
}

// Exports: every `wasm.<name>` in the glue, and InitOutput's `readonly <name>:` in the types.
before.exports.forEach((old, i) => {
  const now = after.exports[i];
  const access = new RegExp(`\\bwasm\\.${escape(old)}\\b`, 'g');
  js = js.replace(access, /^[A-Za-z_$][\w$]*$/.test(now) ? `wasm.${now}` : `wasm[${JSON.stringify(now)}]`);
  dts = dts.replace(new RegExp(`(readonly )${escape(old)}(?=:)`, 'g'), `$1${JSON.stringify(now)}`);
  if (new RegExp(`\\bwasm\\.${escape(old)}\\b`).test(js)) fail(`export ${old} still referenced`);
});
for (const { field } of after.imports) {
  if (!js.includes(`${JSON.stringify(field)}:`)) fail(`the glue no longer defines import ${field}`);
}

writeFileSync(jsPath, js);
writeFileSync(dtsPath, dts);
renameSync(minified, wasmPath);
console.log(`minify-glue-names: ${before.imports.length} imports, ${before.exports.length} exports renamed in ${jsPath}`);
