// Turning a CSV's label column into class indices: numbers stay numbers, strings become sorted names.
import { DatasetError } from './types.ts'

/** At most this many classes: labels are stored as bytes. */
export const MAX_CLASSES = 256

export interface LabelMap {
  /** Class names, index = class. */
  names: string[]
  /** The class of a label string. */
  indexOf(label: string): number
}

/**
 * Builds the classes from every label seen (train and test together). When each label is a non-negative integer
 * below 256 the label is its class (classes = max + 1, names '0'..); otherwise the distinct labels, sorted
 * (numerically where both are numbers), are the classes.
 */
export function buildLabelMap(labels: Iterable<string>, name: string): LabelMap {
  const distinct = new Set(labels)
  const values = [...distinct]
  const numbers = values.map(Number)
  if (values.every((s, i) => s !== '' && Number.isInteger(numbers[i]) && numbers[i] >= 0 && numbers[i] < MAX_CLASSES)) {
    const classes = Math.max(...numbers) + 1
    const byLabel = new Map(values.map((s, i) => [s, numbers[i]]))
    return { names: Array.from({ length: classes }, (_, k) => String(k)), indexOf: (s) => byLabel.get(s)! }
  }
  if (values.length > MAX_CLASSES) {
    throw new DatasetError(`${name}: ${values.length} distinct labels; at most ${MAX_CLASSES} classes are supported`)
  }
  const names = values.sort(compareLabels)
  const byLabel = new Map(names.map((s, k) => [s, k]))
  return { names, indexOf: (s) => byLabel.get(s)! }
}

function compareLabels(a: string, b: string): number {
  const x = Number(a)
  const y = Number(b)
  if (a !== '' && b !== '' && !Number.isNaN(x) && !Number.isNaN(y) && x !== y) return x - y
  return a < b ? -1 : a > b ? 1 : 0
}
