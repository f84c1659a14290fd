/**
 * Counts the entries of a FHIR Bundle while its JSON is still arriving, so that a searchset of 50,000
 * entries is refused after the first few thousand rather than after reading and parsing all of it.
 *
 * A byte scanner, not a parser: it tracks strings, nesting depth and the top-level key `entry`, and
 * counts the objects directly inside that array. UTF-8 continuation bytes are never ASCII, so scanning
 * bytes is safe. It may undercount a key spelt with escapes (`"entr\u0079"`); the reader checks the
 * parsed Bundle's `entry` length again, so that only lets such a body run to the byte cap.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const ENTRY = new TextEncoder().encode('entry');

export class EntryCounter {
  #count = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** Whether the string being read is a key of the top-level object. */
  #readingKey = false;
  /** Bytes of `entry` matched so far by the key being read; -1 once it cannot match. */
  #keyMatch = -1;
  /** At depth 1 of an object: whether the next string is a key. */
  #expectKey = false;
  #lastKeyIsEntry = false;
  #inEntries = false;

  get count(): number {
    return this.#count;
  }

  /** Scans the next bytes of the body; returns the entries counted so far. */
  push(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.#inString) this.#stringByte(byte);
      else this.#structureByte(byte);
    }
    return this.#count;
  }

  #stringByte(byte: number): void {
    if (this.#escaped) {
      this.#escaped = false;
      this.#keyMatch = -1;
    } else if (byte === BACKSLASH) {
      this.#escaped = true;
    } else if (byte === QUOTE) {
      this.#inString = false;
      if (this.#readingKey) this.#lastKeyIsEntry = this.#keyMatch === ENTRY.length;
      this.#readingKey = false;
    } else if (this.#keyMatch >= 0) {
      this.#keyMatch = ENTRY[this.#keyMatch] === byte ? this.#keyMatch + 1 : -1;
    }
  }

  #structureByte(byte: number): void {
    switch (byte) {
      case QUOTE:
        this.#inString = true;
        this.#readingKey = this.#depth === 1 && this.#expectKey;
        this.#keyMatch = this.#readingKey ? 0 : -1;
        break;
      case OPEN_OBJECT:
        this.#depth++;
        if (this.#depth === 1) this.#expectKey = true;
        if (this.#depth === 3 && this.#inEntries) this.#count++;
        break;
      case OPEN_ARRAY:
        this.#depth++;
        if (this.#depth === 2 && this.#lastKeyIsEntry) this.#inEntries = true;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (this.#depth === 2) this.#inEntries = false;
        this.#depth--;
        break;
      case COLON:
        if (this.#depth === 1) this.#expectKey = false;
        break;
      case COMMA:
        if (this.#depth === 1) {
          this.#expectKey = true;
          this.#lastKeyIsEntry = false;
        }
        break;
    }
  }
}
