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
  train: Split
  test: Split
}

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
