// The shape every dataset loader returns, and the one error they throw.

/** n samples: x is n×features row-major float32 (already normalised), y holds labels 0..classes-1. */
export interface Split {
  n: number
  x: Float32Array
  y: Uint8Array
}

/** A loaded dataset, ready to be cut into shards. */
export interface Dataset {
  /** Short display name: 'builtin', 'mnist-idx', or a CSV file's base name. */
  name: string
  /** The spec or path it was loaded from. */
  source: string
  /** J: values per sample. */
  features: number
  /** K: number of classes. */
  classes: number
  /** Class names, length K ('0'..'9' for digits). */
  labels: string[]
  /** [rows, cols] when the samples are images. */
  imageShape?: [number, number]
  /** How raw values became features: what a user of the trained model must do to new inputs. */
  preprocessing?: Preprocessing
  train: Split
  test: Split
}

/** pixels: value / 255; standardised: (value − mean[j]) · scale[j] per feature; none: as read. */
export type Preprocessing = { kind: 'pixels' } | { kind: 'standardised'; mean: number[]; scale: number[] } | { kind: 'none' }

/**
 * A dataset could not be loaded; the message names the file and what is wrong with it.
 *
 * @example
 * try { await loadDataset('idx:/data/mnist') } catch (e) { if (e instanceof DatasetError) console.error(e.message) }
 */
export class DatasetError extends Error {
  readonly code = 'ERR_DATASET' as const
  override name = 'DatasetError'
}
