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

  /**
   * Scans the next bytes of the body; returns the entries counted so far. The state lives in locals
   * while a chunk is scanned (a byte loop over private fields and a method call per byte took longer
   * than JSON.parse of the same body) and is stored back at the end.
   */
  push(chunk: Uint8Array): number {
    let count = this.#count;
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let readingKey = this.#readingKey;
    let keyMatch = this.#keyMatch;
    let expectKey = this.#expectKey;
    let lastKeyIsEntry = this.#lastKeyIsEntry;
    let inEntries = this.#inEntries;
    const length = chunk.length;
    for (let i = 0; i < length; i++) {
      const byte = chunk[i] as number;
      if (inString) {
        if (escaped) {
          escaped = false;
          keyMatch = -1;
        } else if (byte === BACKSLASH) {
          escaped = true;
        } else if (byte === QUOTE) {
          inString = false;
          if (readingKey) lastKeyIsEntry = keyMatch === ENTRY.length;
          readingKey = false;
        } else if (keyMatch >= 0) {
          keyMatch = ENTRY[keyMatch] === byte ? keyMatch + 1 : -1;
        }
        continue;
      }
      switch (byte) {
        case QUOTE:
          inString = true;
          readingKey = depth === 1 && expectKey;
          keyMatch = readingKey ? 0 : -1;
          break;
        case OPEN_OBJECT:
          depth++;
          if (depth === 1) expectKey = true;
          if (depth === 3 && inEntries) count++;
          break;
        case OPEN_ARRAY:
          depth++;
          if (depth === 2 && lastKeyIsEntry) inEntries = true;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (depth === 2) inEntries = false;
          depth--;
          break;
        case COLON:
          if (depth === 1) expectKey = false;
          break;
        case COMMA:
          if (depth === 1) {
            expectKey = true;
            lastKeyIsEntry = false;
          }
          break;
      }
    }
    this.#count = count;
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    this.#readingKey = readingKey;
    this.#keyMatch = keyMatch;
    this.#expectKey = expectKey;
    this.#lastKeyIsEntry = lastKeyIsEntry;
    this.#inEntries = inEntries;
    return count;
  }
}
