// Reads the parts of a wasm binary the size scripts need: LEB128 numbers and names, from a
// position that advances (scripts/wasm-breakdown.mjs, scripts/minify-glue-names.mjs).

/** A cursor over a wasm binary, starting after its magic number and version. */
export class WasmReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 8;
  }

  /** The next byte. */
  byte() {
    return this.bytes[this.pos++];
  }

  /** An unsigned LEB128 number. */
  leb() {
    let result = 0, shift = 0, byte;
    do {
      byte = this.bytes[this.pos++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  }

  /** A length-prefixed UTF-8 name. */
  name() {
    const len = this.leb();
    const text = this.bytes.subarray(this.pos, this.pos + len).toString('utf8');
    this.pos += len;
    return text;
  }

  /** Whether the whole binary has been read. */
  get done() {
    return this.pos >= this.bytes.length;
  }
}
