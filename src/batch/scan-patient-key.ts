/**
 * The patient key of a raw NDJSON line, found without JSON.parse: a single pass over the bytes that
 * tokenises just enough JSON to know the depth of every token, and looks only at the top-level
 * members resourceType, id, subject, patient, beneficiary, individual (and `reference` inside the
 * link objects). It answers `patientIdOf(JSON.parse(line))` or "not sure" (undefined); the caller
 * then takes the full parse path, so the scan may be conservative but must never be wrong.
 *
 * Why an answer is certain whenever the line is valid JSON:
 * - JSON strings end at the first quote not escaped by a backslash, and outside strings there are
 *   only structural characters, whitespace and literal/number characters; so this tokeniser sees
 *   exactly the tokens JSON.parse sees, and counting { [ } ] gives every token's true depth. A
 *   `subject` inside contained resources, extensions, components... is at depth >= 2 and ignored.
 * - Member names are compared byte for byte; a name at the levels we read that holds a backslash
 *   (an escape that might spell `subject`) makes the scan give up. An escaped value we would need
 *   (resourceType, the Patient's id, a reference patientIdOf reaches) makes it give up too.
 * - Duplicate names: JSON.parse keeps the last one, so each occurrence overwrites what we recorded.
 * - Non-object link values (`"subject": "Patient/1"`, arrays, null...) have no `.reference`, and a
 *   non-string reference is skipped, as patientIdOf does; a non-string resourceType gives up, and
 *   so does a non-string id when the line is a Patient.
 * - References and ids are matched on their bytes only when ASCII (bytes = characters there).
 * A line that is not valid JSON may get a key here (the scan does not check numbers, literals,
 * colons or commas); phase 2 parses every line it receives and reports such a line exactly as the
 * full parse here would have (see apply-shard.ts), so the key it was routed under does not matter.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** Deeper lines are left to the full parse (keeps the container stack a fixed array). */
const MAX_DEPTH = 64;

/** Top-level members we read. The links come first, in patientIdOf's order. */
const SUBJECT = 0;
const PATIENT = 1;
const BENEFICIARY = 2;
const INDIVIDUAL = 3;
const RESOURCE_TYPE = 4;
const ID = 5;
const OTHER = -1;

/** What a link member held when the line ended. */
const LINK_ABSENT = 0;
/** A value without a string `reference` (not an object, or an object without one). */
const LINK_NO_REFERENCE = 1;
const LINK_REFERENCE = 2;
/** A reference with an escape: what it says is left to the full parse. */
const LINK_UNSURE = 3;

/** The value of resourceType or id was not a plain string (not a string, or one with escapes). */
const UNSURE = -2;

/** Per-call scratch state, reused: the scan allocates only to make a key string. */
const isObject = new Uint8Array(MAX_DEPTH + 1);
const linkState = new Uint8Array(4);
const referenceStart = new Int32Array(4);
const referenceEnd = new Int32Array(4);

function nameIs(bytes: Uint8Array, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name.charCodeAt(i)) return false;
  return true;
}

function topLevelMember(bytes: Uint8Array, start: number, end: number): number {
  switch (end - start) {
    case 2:
      return nameIs(bytes, start, end, 'id') ? ID : OTHER;
    case 7:
      return nameIs(bytes, start, end, 'subject') ? SUBJECT : nameIs(bytes, start, end, 'patient') ? PATIENT : OTHER;
    case 10:
      return nameIs(bytes, start, end, 'individual') ? INDIVIDUAL : OTHER;
    case 11:
      return nameIs(bytes, start, end, 'beneficiary') ? BENEFICIARY : OTHER;
    case 12:
      return nameIs(bytes, start, end, 'resourceType') ? RESOURCE_TYPE : OTHER;
    default:
      return OTHER;
  }
}

function ascii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

const SLASH = 0x2f;

/** [A-Za-z0-9\-.]: the id characters of PATIENT_REFERENCE and of the reader's id rule. */
function isIdByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x2e;
}

function isId(bytes: Uint8Array, start: number, end: number): boolean {
  if (end <= start || end - start > 64) return false;
  for (let i = start; i < end; i++) if (!isIdByte(bytes[i]!)) return false;
  return true;
}

function lastSlash(bytes: Uint8Array, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (bytes[i] === SLASH) return i;
  return -1;
}

/** The whole path segment that ends at `slash` is `Patient`. */
function patientSegmentBefore(bytes: Uint8Array, from: number, slash: number): boolean {
  const segment = slash - 7;
  return segment >= from && nameIs(bytes, segment, slash, 'Patient') && (segment === from || bytes[segment - 1] === SLASH);
}

/** Where referencedPatient found the id. */
let foundStart = 0;
let foundEnd = 0;

/**
 * PATIENT_REFERENCE on bytes, without decoding: `[.../]Patient/<id>` or
 * `[.../]Patient/<id>/_history/<version without '/'>`, the id being 1-64 of [A-Za-z0-9\-.]. An id
 * has no '/', so the path segments from the end decide it, and the two forms exclude each other
 * (the segment before the last would have to be both `Patient` and `_history`).
 * A test holds it to the regular expression.
 */
function referencedPatient(bytes: Uint8Array, from: number, to: number): boolean {
  const last = lastSlash(bytes, from, to);
  if (last < 0) return false;
  if (isId(bytes, last + 1, to) && patientSegmentBefore(bytes, from, last)) {
    foundStart = last + 1;
    foundEnd = to;
    return true;
  }
  const history = lastSlash(bytes, from, last);
  if (history < 0 || !nameIs(bytes, history + 1, last, '_history')) return false;
  const before = lastSlash(bytes, from, history);
  if (before < 0 || !isId(bytes, before + 1, history) || !patientSegmentBefore(bytes, from, before)) return false;
  foundStart = before + 1;
  foundEnd = history;
  return true;
}

/** The last key returned, and its bytes: a patient's lines often come in runs, and share one string. */
let lastKey = '';
const lastKeyBytes = new Uint8Array(64);

/** The ASCII id in bytes [start, end) (at most 64) as a string. */
function keyString(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === lastKey.length) {
    let i = 0;
    while (i < length && bytes[start + i] === lastKeyBytes[i]) i++;
    if (i === length) return lastKey;
  }
  for (let i = 0; i < length; i++) lastKeyBytes[i] = bytes[start + i]!;
  lastKey = Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1');
  return lastKey;
}

/**
 * The patient id `patientIdOf(JSON.parse(line))` gives for the line bytes [start, end), if the line
 * is valid JSON; undefined when the scan cannot be sure (or finds no patient: the caller decides).
 */
export function scanPatientKey(bytes: Uint8Array, start: number, end: number): string | undefined {
  // Lines that do not start with '{' (blank, BOM, leading space, arrays...) take the full path.
  if (start >= end || bytes[start] !== OPEN_OBJECT) return undefined;
  linkState.fill(LINK_ABSENT);
  let resourceTypeStart = -1;
  let resourceTypeEnd = -1;
  let idStart = -1;
  let idEnd = -1;
  let depth = 0;
  let expectName = false;
  /** The top-level member being read (its value may still be ahead). */
  let member = OTHER;
  /** The next value token at depth 1 is `member`'s value. */
  let memberValuePending = false;
  /** The link whose object value is open at depth 2, or OTHER. */
  let openLink = OTHER;
  /** Inside that object, the next value token is its `reference`. */
  let referencePending = false;
  let i = start;
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        if (j >= end) return undefined;
        const d = bytes[j]!;
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          j += 2;
        } else {
          j++;
        }
      }
      if (expectName) {
        expectName = false;
        if (depth === 1) {
          if (escaped) return undefined;
          member = topLevelMember(bytes, i + 1, j);
          memberValuePending = member !== OTHER;
        } else if (depth === 2 && openLink !== OTHER) {
          if (escaped) return undefined;
          referencePending = nameIs(bytes, i + 1, j, 'reference');
        }
      } else if (memberValuePending) {
        memberValuePending = false;
        if (member === RESOURCE_TYPE) {
          resourceTypeStart = escaped ? UNSURE : i + 1;
          resourceTypeEnd = j;
        } else if (member === ID) {
          idStart = escaped ? UNSURE : i + 1;
          idEnd = j;
        } else {
          linkState[member] = LINK_NO_REFERENCE;
        }
      } else if (referencePending) {
        referencePending = false;
        linkState[openLink] = escaped ? LINK_UNSURE : LINK_REFERENCE;
        referenceStart[openLink] = i + 1;
        referenceEnd[openLink] = j;
      }
      i = j;
      continue;
    }
    if (c === SPACE || c === COLON || c === TAB || c === LF || c === CR) continue;
    if (c === COMMA) {
      expectName = isObject[depth] === 1;
      continue;
    }
    if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0 || isObject[depth] !== (c === CLOSE_OBJECT ? 1 : 0)) return undefined;
      if (depth === 2) {
        openLink = OTHER;
        referencePending = false;
      }
      depth--;
      expectName = false;
      if (depth === 0) break;
      continue;
    }
    // A value token that is not a string: an object, an array, a number or a literal.
    const opens = c === OPEN_OBJECT || c === OPEN_ARRAY;
    if (memberValuePending) {
      memberValuePending = false;
      if (member === RESOURCE_TYPE) {
        resourceTypeStart = UNSURE;
      } else if (member === ID) {
        idStart = UNSURE;
      } else {
        linkState[member] = LINK_NO_REFERENCE;
        if (c === OPEN_OBJECT) openLink = member;
      }
    } else if (referencePending) {
      // A non-string reference: patientIdOf skips it, and so does a later string one overwrite it.
      referencePending = false;
      linkState[openLink] = LINK_NO_REFERENCE;
    }
    if (opens) {
      if (depth === MAX_DEPTH) return undefined;
      depth++;
      isObject[depth] = c === OPEN_OBJECT ? 1 : 0;
      expectName = c === OPEN_OBJECT;
    }
  }
  if (depth !== 0 || i >= end) return undefined;
  // Only whitespace may follow the top-level object.
  for (i++; i < end; i++) {
    const c = bytes[i]!;
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) return undefined;
  }
  // Absent or unsure: the full parse says what this line is.
  if (resourceTypeStart < 0) return undefined;
  if (nameIs(bytes, resourceTypeStart, resourceTypeEnd, 'Patient')) {
    return idStart >= 0 && isId(bytes, idStart, idEnd) ? keyString(bytes, idStart, idEnd) : undefined;
  }
  for (let link = SUBJECT; link <= INDIVIDUAL; link++) {
    if (linkState[link] === LINK_UNSURE) return undefined;
    if (linkState[link] !== LINK_REFERENCE) continue;
    const from = referenceStart[link]!;
    const to = referenceEnd[link]!;
    // Bytes only stand for the decoded text where it is ASCII: anything else is left to the parse.
    if (!ascii(bytes, from, to)) return undefined;
    if (referencedPatient(bytes, from, to)) return keyString(bytes, foundStart, foundEnd);
  }
  return undefined;
}
