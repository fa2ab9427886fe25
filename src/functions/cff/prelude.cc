// What CloudFront Functions see besides the language: console, require() with crypto and
// querystring, and in 2.0 Buffer and the cloudfront module (KVS, origin helpers); in 1.0 the
// non-standard String byte methods. Written in JavaScript over a few natives (modules/*.cc),
// run once per script global, never per call.
#include "functions/cff/engine.h"

namespace eg::functions::cff {

namespace {

// Called as prelude(natives, isV2). Everything it defines is non-enumerable, like built-ins.
constexpr char kPrelude[] = R"JS((function (natives, v2) {
'use strict';
const G = globalThis;
const define = (o, name, value) =>
  Object.defineProperty(o, name, { value, writable: true, configurable: true, enumerable: false });
const runtime = v2 ? 'cloudfront-js-2.0' : 'cloudfront-js-1.0';
const { encode, decode } = natives;

const console = {};
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) define(console, level, natives.log);
define(G, 'console', console);

// eval and the Function constructor: replaced by natives that throw an EvalError naming the
// restriction; the indirect ways in (a function's .constructor chain) hit SpiderMonkey's CSP hook.
define(G, 'eval', natives.eval);
Object.defineProperty(natives.Function, 'prototype', { value: Function.prototype });
define(Function.prototype, 'constructor', natives.Function);
define(G, 'Function', natives.Function);
delete G.WebAssembly;

const ENCODINGS = ['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii'];
const encodingOf = (e) => {
  if (e === undefined || e === null) return 'utf8';
  const n = String(e).toLowerCase();
  if (!ENCODINGS.includes(n)) throw new TypeError(`Unknown encoding: ${e}`);
  return n;
};

let Buffer;
if (v2) {
  Buffer = class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return wrap(encode(value, encodingOf(encodingOrOffset)));
      if (value instanceof ArrayBuffer) {
        const offset = encodingOrOffset === undefined ? 0 : encodingOrOffset;
        return new Buffer(value, offset, length === undefined ? value.byteLength - offset : length);
      }
      if (ArrayBuffer.isView(value)) {
        const copy = new Buffer(value.byteLength);
        copy.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        return copy;
      }
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.from(value.data);
      if (value && typeof value === 'object' && typeof value.length === 'number') {
        const b = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) b[i] = value[i] & 255;
        return b;
      }
      throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer, Array, or array-like object');
    }
    static alloc(size, fill, encoding) {
      const b = new Buffer(size);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, encoding);
      return b;
    }
    static allocUnsafe(size) { return new Buffer(size); }
    static byteLength(value, encoding) {
      if (typeof value === 'string') return encode(value, encodingOf(encoding)).length;
      if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
      throw new TypeError('The "string" argument must be a string, Buffer, or ArrayBuffer');
    }
    static concat(list, totalLength) {
      if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an Array of Buffers');
      if (totalLength === undefined) totalLength = list.reduce((n, b) => n + b.length, 0);
      const out = new Buffer(totalLength);
      let at = 0;
      for (const b of list) {
        if (at >= totalLength) break;
        const n = Math.min(b.length, totalLength - at);
        out.set(n === b.length ? b : b.subarray(0, n), at);
        at += n;
      }
      return out;
    }
    static compare(a, b) {
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
    }
    static isBuffer(value) { return value instanceof Buffer; }
    static isEncoding(e) { return typeof e === 'string' && ENCODINGS.includes(e.toLowerCase()); }
    toString(encoding, start, end) {
      const whole = start === undefined && end === undefined;
      return decode(whole ? this : this.subarray(start || 0, end === undefined ? this.length : end),
                    encodingOf(encoding));
    }
    equals(other) { return Buffer.compare(this, other) === 0; }
    compare(other) { return Buffer.compare(this, other); }
    slice(start, end) { return this.subarray(start, end); }  // Node: a view, not a copy
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    fill(value, offset, end, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length; }
      if (typeof value !== 'string') return super.fill(value & 255, offset, end);
      const pattern = encode(value, encodingOf(encoding));
      if (pattern.length === 0) return super.fill(0, offset, end);
      const from = offset || 0, to = end === undefined ? this.length : end;
      for (let i = from; i < to; i++) this[i] = pattern[(i - from) % pattern.length];
      return this;
    }
    write(string, offset, length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined; }
      const bytes = encode(string, encodingOf(encoding));
      const at = offset || 0;
      const n = Math.min(bytes.length, this.length - at, length === undefined ? Infinity : length);
      this.set(bytes.subarray(0, n), at);
      return n;
    }
  };
  define(G, 'Buffer', Buffer);
}
const wrap = (bytes) => new Buffer(bytes.buffer, bytes.byteOffset, bytes.length);

// crypto
const hashFromName = (algorithm) => {
  const name = String(algorithm).toLowerCase();
  if (name !== 'md5' && name !== 'sha1' && name !== 'sha256')
    throw new Error(`Digest method not supported: ${algorithm} (CloudFront Functions offer md5, sha1 and sha256)`);
  return name;
};
class Hash {
  constructor(algorithm, key) { this._algorithm = algorithm; this._key = key; this._chunks = []; this._done = false; }
  update(data, encoding) {
    if (this._done) throw new Error('Digest already called');
    if (typeof data === 'string' && encoding !== undefined && encodingOf(encoding) !== 'utf8' &&
        encodingOf(encoding) !== 'utf-8')
      data = encode(data, encodingOf(encoding));
    else if (typeof data !== 'string' && !ArrayBuffer.isView(data))
      throw new TypeError('The "data" argument must be a string, Buffer, TypedArray or DataView');
    this._chunks.push(data);
    return this;
  }
  digest(encoding) {
    if (this._done) throw new Error('Digest already called');
    this._done = true;
    const out = natives.digest(this._algorithm, this._key, this._chunks,
                               encoding === undefined ? '' : String(encoding).toLowerCase());
    if (typeof out === 'string') return out;
    return v2 ? wrap(out) : decode(out, 'latin1');  // 1.0: a byte string
  }
}
const crypto = {
  createHash: (algorithm) => new Hash(hashFromName(algorithm), null),
  createHmac: (algorithm, key) => {
    if (typeof key !== 'string' && !ArrayBuffer.isView(key))
      throw new TypeError('The "key" argument must be a string, Buffer, TypedArray or DataView');
    return new Hash(hashFromName(algorithm), key);
  },
};

// querystring, as Node's
const isHex = (c) => /[0-9A-Fa-f]/.test(c);
const unescapeBuffer = (s) => {
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && i + 2 < s.length + 0 && isHex(s[i + 1] || '') && isHex(s[i + 2] || '')) {
      bytes.push(parseInt(s.substr(i + 1, 2), 16));
      i += 2;
    } else {
      const cp = s.codePointAt(i);
      const ch = String.fromCodePoint(cp);
      for (const b of encode(ch, 'utf8')) bytes.push(b);
      i += ch.length - 1;
    }
  }
  return decode(Uint8Array.from(bytes), 'utf8');
};
const qsEscape = (s) => encodeURIComponent(typeof s === 'string' ? s : String(s));
const qsUnescape = (s) => { try { return decodeURIComponent(s); } catch (e) { return unescapeBuffer(s); } };
const primitive = (v) => {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return isFinite(v) ? '' + v : '';
    case 'bigint': return '' + v;
    case 'boolean': return v ? 'true' : 'false';
    default: return '';
  }
};
const querystring = {
  escape: qsEscape,
  unescape: qsUnescape,
  stringify(obj, sep, eq, options) {
    sep = sep || '&'; eq = eq || '=';
    const enc = options && typeof options.encodeURIComponent === 'function' ? options.encodeURIComponent : querystring.escape;
    if (obj === null || typeof obj !== 'object') return '';
    const fields = [];
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const ks = enc(primitive(k)) + eq;
      if (Array.isArray(v)) for (const item of v) fields.push(ks + enc(primitive(item)));
      else fields.push(ks + enc(primitive(v)));
    }
    return fields.join(sep);
  },
  parse(qs, sep, eq, options) {
    const obj = Object.create(null);
    if (typeof qs !== 'string' || qs.length === 0) return obj;
    sep = sep || '&'; eq = eq || '=';
    const maxKeys = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
    const dec = options && typeof options.decodeURIComponent === 'function' ? options.decodeURIComponent : querystring.unescape;
    let parts = qs.split(sep);
    if (maxKeys > 0 && parts.length > maxKeys) parts = parts.slice(0, maxKeys);
    for (const part of parts) {
      if (part.length === 0) continue;
      const at = part.indexOf(eq);
      const rawKey = at >= 0 ? part.slice(0, at) : part;
      const rawValue = at >= 0 ? part.slice(at + eq.length) : '';
      const key = dec(rawKey.replace(/\+/g, ' '));
      const value = dec(rawValue.replace(/\+/g, ' '));
      if (!(key in obj)) obj[key] = value;
      else if (Array.isArray(obj[key])) obj[key].push(value);
      else obj[key] = [obj[key], value];
    }
    return obj;
  },
};
querystring.decode = querystring.parse;
querystring.encode = querystring.stringify;

const modules = { crypto, querystring };

if (v2) {
  const kvsHandle = Object.freeze({
    async get(key, options) {
      const format = options && options.format !== undefined ? options.format : 'string';
      const value = natives.kvsGet(key);
      if (value === undefined) throw new Error(`Key "${key}" not found in the key value store`);
      switch (format) {
        case 'string': return value;
        case 'json': return JSON.parse(value);
        case 'bytes': return Buffer.from(value, 'utf8');
        default: throw new Error(`Unknown format "${format}" (use string, json or bytes)`);
      }
    },
    async exists(key) { return natives.kvsGet(key) !== undefined; },
    async meta() { return JSON.parse(natives.kvsMeta()); },
  });
  const params = (name, value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new TypeError(`cf.${name} expects an object`);
    return JSON.stringify(value);
  };
  modules.cloudfront = Object.freeze({
    kvs(id) { natives.kvsMeta(); return kvsHandle; },  // throws when no store is associated
    updateRequestOrigin(value) { natives.setOrigin('update', params('updateRequestOrigin', value)); },
    selectRequestOriginById(id) {
      if (typeof id !== 'string' || id.length === 0)
        throw new TypeError('cf.selectRequestOriginById expects an origin id (a string)');
      natives.setOrigin('select', id);
    },
    createRequestOriginGroup(value) { natives.setOrigin('group', params('createRequestOriginGroup', value)); },
  });
  modules.buffer = { Buffer };
} else {
  // 1.0's non-standard byte strings: strings whose code units are all below 256.
  const isBytes = (s) => !/[^\u0000-\u00ff]/.test(s);
  define(String, 'bytesFrom', function bytesFrom(value, encoding) {
    if (typeof value === 'string') return decode(encode(value, encodingOf(encoding)), 'latin1');
    return decode(Uint8Array.from(value, (b) => b & 255), 'latin1');
  });
  define(String.prototype, 'fromBytes', function fromBytes(start, end) {
    const s = String(this).slice(start, end);
    return isBytes(s) ? s : null;
  });
  define(String.prototype, 'toBytes', function toBytes(start, end) {
    const s = String(this).slice(start, end);
    return isBytes(s) ? s : null;
  });
  define(String.prototype, 'fromUTF8', function fromUTF8(start, end) {
    const s = String(this).slice(start, end);
    return isBytes(s) ? decode(encode(s, 'latin1'), 'utf8strict') : null;
  });
  define(String.prototype, 'toUTF8', function toUTF8(start, end) {
    return decode(encode(String(this).slice(start, end), 'utf8'), 'latin1');
  });
}

define(G, 'require', function require(name) {
  if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
  throw new Error(`Cannot find module '${name}': ${runtime} provides ${Object.keys(modules).join(', ')}`);
});

// Request records (src/functions/cff_record.h): the viewer-request event made from the
// record's four parts (head fields, then the querystring, headers and cookies maps), and a
// returned request read back into a record — true when it is the request as shown, null when
// it is anything but a plain request (a response, a changed multiValue, a value that is not a
// string...), which the runtime then stringifies for the gateway's JSON judge. A map that is
// as it was shown goes back as "=", so the gateway keeps its bytes as they came.
// Everything made here is young garbage for the nursery: no accessors (their getter/setter
// pairs are tenured cells, which filled the heap and cost a full GC every few hundred calls).
// Object.keys and Array.isArray are taken now, before the function's code runs; split and
// indexOf are called as methods, which the JIT inlines (a function that replaces them changes
// its own events).
const NUL = '\u0000';
const AS_SHOWN = '=' + NUL;
const keysOf = Object.keys;
const isArray = Array.isArray;
const defineProperty = Object.defineProperty;

// A map's segment, split: its number of names, then per name the name, its number of values
// and the values.
const readMap = (fields) => {
  const map = {};
  const names = +fields[0];
  let at = 1;
  for (let i = 0; i < names; i++) {
    const name = fields[at++];
    const count = +fields[at++];
    const entry = { value: fields[at++] };
    if (count > 1) {
      const all = [{ value: entry.value }];
      for (let k = 1; k < count; k++) all[k] = { value: fields[at++] };
      entry.multiValue = all;
    }
    // JSON.parse makes "__proto__" an own key; assigning it would set the prototype.
    if (name === '__proto__')
      defineProperty(map, name, { value: entry, writable: true, enumerable: true, configurable: true });
    else map[name] = entry;
  }
  return map;
};

let shown = null;  // the running call's event: its fields and its request object
const buildRequestEvent = (head, querystring, headers, cookies) => {
  const f = head.split(NUL);
  const fields = [querystring.split(NUL), headers.split(NUL), cookies.split(NUL)];
  const request = {
    method: f[5],
    uri: f[6],
    querystring: readMap(fields[0]),
    headers: readMap(fields[1]),
    cookies: readMap(fields[2]),
  };
  shown = { head: f, fields, request };
  return {
    version: '1.0',
    context: { distributionDomainName: f[0], distributionId: f[1], eventType: f[2], requestId: f[3] },
    viewer: { ip: f[4] },
    request,
  };
};

const isEntry = (e) => e !== null && typeof e === 'object';
// Is the map the one shown: the same names in the same order, the same values (and the same
// multiValue where a name repeated)?
const sameMap = (map, fields) => {
  if (map === null || typeof map !== 'object') return false;
  const names = keysOf(map);
  if (names.length !== +fields[0]) return false;
  for (let i = 0, p = 1; i < names.length; i++) {
    const count = +fields[p + 1];
    const entry = map[names[i]];
    if (names[i] !== fields[p] || !isEntry(entry) || entry.value !== fields[p + 2]) return false;
    const all = entry.multiValue;
    if (count === 1) {
      if (all !== undefined) return false;
    } else {
      if (!isArray(all) || all.length !== count) return false;
      for (let k = 0; k < count; k++)
        if (!isEntry(all[k]) || all[k].value !== fields[p + 2 + k]) return false;
    }
    p += 2 + count;
  }
  return true;
};
const plainText = (v) => typeof v === 'string' && v.indexOf(NUL) === -1;
// A changed map as a segment; null when it is not a plain map.
const flattenMap = (map) => {
  if (map === null || typeof map !== 'object' || isArray(map)) return null;
  const names = keysOf(map);
  let text = names.length + NUL;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const entry = map[name];
    if (!isEntry(entry) || entry.multiValue !== undefined) return null;
    const value = entry.value;
    if (!plainText(value) || !plainText(name)) return null;
    text += name + NUL + '1' + NUL + value + NUL;
  }
  return text;
};
const flattenRequest = (r) => {
  const s = shown;
  shown = null;
  if (s === null || r === null || typeof r !== 'object' || isArray(r) ||
      r.statusCode !== undefined || r.status !== undefined || r.Records !== undefined ||
      r.context !== undefined || r.toJSON !== undefined)
    return null;
  const method = r.method;
  const uri = r.uri;
  if (!plainText(method) || !plainText(uri)) return null;
  let same = r === s.request && method === s.head[5] && uri === s.head[6];
  let text = method + NUL + uri + NUL;
  const maps = [r.querystring, r.headers, r.cookies];
  for (let i = 0; i < 3; i++) {
    if (sameMap(maps[i], s.fields[i])) {
      text += AS_SHOWN;
      continue;
    }
    same = false;
    const segment = flattenMap(maps[i]);
    if (segment === null) return null;
    text += segment;
  }
  return same ? true : text;
};
return { buildRequestEvent, flattenRequest };
}))JS";

}  // namespace

bool install_prelude(JSContext* cx, CffRuntimeVersion version, RecordAdapters& adapters) {
  JS::RootedObject natives(cx, JS_NewPlainObject(cx));
  if (!natives || !JS_DefineFunctions(cx, natives, kCryptoNatives) ||
      !JS_DefineFunctions(cx, natives, kBytesNatives) ||
      !JS_DefineFunctions(cx, natives, kCloudfrontNatives))
    return false;
  JS::CompileOptions options(cx);
  options.setFileAndLine("<cloudfront-functions runtime>", 1)
      .setEagerDelazificationStrategy(JS::DelazificationOption::ParseEverythingEagerly);
  JS::SourceText<mozilla::Utf8Unit> text;
  JS::RootedValue prelude(cx);
  if (!text.init(cx, kPrelude, sizeof kPrelude - 1, JS::SourceOwnership::Borrowed) ||
      !JS::Evaluate(cx, options, text, &prelude))
    return false;
  JS::RootedValueArray<2> args(cx);
  args[0].setObject(*natives);
  args[1].setBoolean(version == CffRuntimeVersion::V2);
  JS::RootedValue made(cx);
  if (!JS::Call(cx, JS::UndefinedHandleValue, prelude, args, &made) || !made.isObject())
    return false;
  JS::RootedObject object(cx, &made.toObject());
  return JS_GetProperty(cx, object, "buildRequestEvent", adapters.build_request_event) &&
         JS_GetProperty(cx, object, "flattenRequest", adapters.flatten_request);
}

}  // namespace eg::functions::cff
