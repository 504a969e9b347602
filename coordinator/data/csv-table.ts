// Parsing CSV bytes into a label column and a float32 feature matrix, fast, with line-numbered errors.
import { DatasetError } from './types.ts'

/** A parsed CSV: `rows` rows of `width` features (row-major) and one label string per row. */
export interface CsvTable {
  rows: number
  width: number
  values: Float32Array
  labels: string[]
  /** The first row was a header and was skipped. */
  hasHeader: boolean
  /** Every feature value is an integer in [0, 255]. */
  allBytes: boolean
  /** The largest feature value. */
  max: number
}

const COMMA = 0x2c
const QUOTE = 0x22
const SPACE = 0x20
const TAB = 0x09
const CR = 0x0d
const LF = 0x0a
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const F32_MAX = 3.4028234663852886e38
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i)

/**
 * Parses CSV with the label in the first column and numeric features after it. The first row is a header when
 * any of its feature fields is not a number. Blank lines are skipped; `name` prefixes every error.
 */
export function parseCsvTable(bytes: Uint8Array, name: string): CsvTable {
  const p = new Parser(bytes, name)
  return p.run()
}

class Parser {
  /** The current line: its number (1-based), first byte, and end (before any CR). */
  private line = 0
  private pos = 0
  private end = 0
  /** Where the next line starts. */
  private next = 0
  private allBytes = true
  private max = -Infinity

  private readonly b: Buffer

  constructor(
    bytes: Uint8Array,
    private readonly name: string,
  ) {
    this.b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  run(): CsvTable {
    if (this.b[0] === 0xef && this.b[1] === 0xbb && this.b[2] === 0xbf) this.next = 3 // UTF-8 BOM
    if (!this.nextLine()) throw new DatasetError(`${this.name}: empty file (no rows)`)
    const first = this.splitLine()
    if (first.length < 2) {
      throw new DatasetError(`${this.name} line ${this.line}: expected a label and at least one feature, got 1 field`)
    }
    const hasHeader = first.slice(1).some((f) => !isFiniteNumber(f))
    const width = first.length - 1
    let capacity = this.countLines() + 1
    let values = new Float32Array(capacity * width)
    const labels: string[] = []
    if (!hasHeader) {
      for (let j = 0; j < width; j++) values[j] = this.checkValue(Number(first[j + 1]), j, first[j + 1])
      labels.push(this.checkLabel(first[0]))
    }
    while (this.nextLine()) {
      const r = labels.length
      if (r >= capacity) {
        capacity *= 2
        const grown = new Float32Array(capacity * width)
        grown.set(values)
        values = grown
      }
      labels.push(this.readRow(values, r * width, width))
    }
    if (labels.length === 0) throw new DatasetError(`${this.name}: no data rows after the header`)
    return {
      rows: labels.length,
      width,
      values: values.subarray(0, labels.length * width),
      labels,
      hasHeader,
      allBytes: this.allBytes,
      max: this.max,
    }
  }

  /** Moves to the next non-blank line (sets pos, end, line); false at the end of the file. */
  private nextLine(): boolean {
    const b = this.b
    while (this.next < b.length) {
      const start = this.next
      this.line++
      let lf = b.indexOf(LF, start)
      if (lf < 0) lf = b.length
      this.next = lf + 1
      let last = lf
      if (last > start && b[last - 1] === CR) last--
      let k = start
      while (k < last && (b[k] === SPACE || b[k] === TAB)) k++
      if (k < last) {
        this.pos = start
        this.end = last
        return true
      }
    }
    return false
  }

  /** Counts the line feeds still ahead: with one more, an upper bound on the rows to come. */
  private countLines(): number {
    let n = 0
    let k = this.next - 1
    while ((k = this.b.indexOf(LF, k + 1)) >= 0) n++
    return n
  }

  /** Reads one data row's features into values[o..o+width) and returns its label. */
  private readRow(values: Float32Array, o: number, width: number): string {
    const b = this.b
    const end = this.end
    const [label, afterLabel] = this.field(this.pos)
    if (afterLabel >= end) this.wrongWidth(width)
    let p = afterLabel + 1
    for (let j = 0; j < width; j++) {
      // fast path: [sign] digits [. digits], at most 15 significant digits, then spaces and a comma or the end
      let q = p
      while (q < end && (b[q] === SPACE || b[q] === TAB)) q++
      let neg = false
      if (b[q] === MINUS || b[q] === PLUS) neg = b[q++] === MINUS
      let mant = 0
      let digits = 0
      let frac = 0
      let dot = false
      for (; q < end; q++) {
        const c = b[q]
        if (c >= 0x30 && c <= 0x39) {
          mant = mant * 10 + (c - 0x30)
          digits++
          if (dot) frac++
        } else if (c === DOT && !dot) dot = true
        else break
      }
      while (q < end && (b[q] === SPACE || b[q] === TAB)) q++
      if (digits > 0 && digits <= 15 && (q === end || b[q] === COMMA)) {
        const v = frac ? mant / POW10[frac] : mant
        values[o + j] = this.checkValue(neg ? -v : v, j, null)
        p = q + 1
      } else {
        const [text, after] = this.field(p)
        values[o + j] = this.checkValue(Number(text.trim()), j, text)
        p = after + 1
      }
      if (j < width - 1 && p > end) this.wrongWidth(width)
    }
    if (p <= end) this.wrongWidth(width)
    return this.checkLabel(label)
  }

  private checkLabel(label: string): string {
    if (label === '') throw new DatasetError(`${this.name} line ${this.line}, column 1: empty label`)
    return label
  }

  /** Validates one feature value; text is the field (null when the fast path parsed it). */
  private checkValue(v: number, j: number, text: string | null): number {
    if (!Number.isFinite(v) || Math.abs(v) > F32_MAX || (text !== null && text.trim() === '')) {
      const shown = text === null ? String(v) : text.trim()
      const why =
        shown === '' ? 'empty field'
        : Number.isNaN(v) ? `"${clip(shown)}" is not a number`
        : `${clip(shown)} is not a finite float32`
      throw new DatasetError(`${this.name} line ${this.line}, column ${j + 2}: ${why}`)
    }
    if (v > this.max) this.max = v
    if (this.allBytes && (v < 0 || v > 255 || Math.floor(v) !== v)) this.allBytes = false
    return v
  }

  private wrongWidth(width: number): never {
    const got = this.splitLine().length
    throw new DatasetError(`${this.name} line ${this.line}: expected ${width + 1} fields, got ${got}`)
  }

  /** Every field of the current line, unquoted. */
  private splitLine(): string[] {
    const out: string[] = []
    let p = this.pos
    for (;;) {
      const [text, after] = this.field(p)
      out.push(text)
      if (after >= this.end) return out
      p = after + 1
    }
  }

  /** The field starting at p (quotes removed, "" → "), and the index of the comma or line end after it. */
  private field(p: number): [string, number] {
    const b = this.b
    const end = this.end
    let q = p
    while (q < end && (b[q] === SPACE || b[q] === TAB)) q++
    if (q < end && b[q] === QUOTE) {
      let text = ''
      let s = q + 1
      for (let k = s; ; k++) {
        if (k >= end) throw new DatasetError(`${this.name} line ${this.line}: unterminated quoted field`)
        if (b[k] !== QUOTE) continue
        text += decode(b, s, k)
        if (b[k + 1] === QUOTE && k + 1 < end) {
          text += '"'
          s = k + 2
          k++
          continue
        }
        let after = k + 1
        while (after < end && (b[after] === SPACE || b[after] === TAB)) after++
        if (after < end && b[after] !== COMMA) {
          throw new DatasetError(`${this.name} line ${this.line}: text after a closing quote`)
        }
        return [text, after]
      }
    }
    let c = b.indexOf(COMMA, p)
    if (c < 0 || c > end) c = end
    return [decode(b, p, c).trim(), c]
  }
}

function decode(b: Buffer, s: number, e: number): string {
  return b.toString('utf8', s, e)
}

function isFiniteNumber(s: string): boolean {
  const t = s.trim()
  return t !== '' && Number.isFinite(Number(t))
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}
