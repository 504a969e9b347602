// Argument checks both engines share, so they reject the same calls with the same errors.
import type { MlrDims } from '../../model/mlr.ts'

export function checkDims({ K, J }: MlrDims): void {
  if (!Number.isInteger(K) || !Number.isInteger(J) || K < 1 || J < 1 || K > 256) {
    throw new RangeError(`bad model dims K=${K} J=${J} (need integers, 1 ≤ K ≤ 256, J ≥ 1)`)
  }
}

export function checkLength(what: string, a: ArrayLike<number>, need: number): void {
  if (a.length < need) throw new RangeError(`${what} has ${a.length} values, needs ${need}`)
}

export function checkRows(row0: number, rows: number, n: number): void {
  if (!Number.isInteger(row0) || !Number.isInteger(rows) || row0 < 0 || rows < 1 || row0 + rows > n) {
    throw new RangeError(`rows [${row0}, ${row0 + rows}) are not inside the loaded shard of ${n}`)
  }
}
