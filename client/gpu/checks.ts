// Argument checks both engines share, so they reject the same calls with the same errors.
import type { ModelPlan } from '../../model/plan.ts'
import { partLength, type Part } from '../../model/update.ts'

export function checkLength(what: string, a: ArrayLike<number>, need: number): void {
  if (a.length < need) throw new RangeError(`${what} has ${a.length} values, needs ${need}`)
}

/** n labels, each a class of the model. */
export function checkLabels(y: Uint8Array, n: number, classes: number): void {
  checkLength('labels', y, n)
  for (let i = 0; i < n; i++) if (y[i] >= classes) throw new RangeError(`label ${y[i]} at row ${i} is not one of the ${classes} classes`)
}

export function checkRows(row0: number, rows: number, n: number): void {
  if (!Number.isInteger(row0) || !Number.isInteger(rows) || row0 < 0 || rows < 1 || row0 + rows > n) {
    throw new RangeError(`rows [${row0}, ${row0 + rows}) are not inside the loaded shard of ${n}`)
  }
}

/** Every part names a tensor of the plan and holds exactly the floats its form needs for `rows`. */
export function checkParts(plan: ModelPlan, parts: readonly Part[], rows: number): void {
  for (const p of parts) {
    const t = plan.tensors[p.tensor]
    if (!t) throw new RangeError(`part for tensor ${p.tensor}: the model has ${plan.tensors.length}`)
    if (p.form === 'factors' && !t.factorable) throw new RangeError(`${t.name} cannot take factors`)
    const need = partLength(t, p.form, rows)
    if (p.floats.length !== need) throw new RangeError(`${t.name} ${p.form} part has ${p.floats.length} floats, needs ${need}`)
  }
}
