// What the operator's API answers about data: the catalog a new job may read, and an upload's result.

/** GET /api/data (operator only): the built-in sets and the data files under the data roots, as job `data` specs. */
export interface DataCatalog {
  builtin: Array<{ spec: string; app: 'sgd' | 'lasso'; description: string }>
  /** CSV files (either app) and folders of IDX files (SGD). */
  files: Array<{ spec: string; app: 'sgd' | 'lasso' | 'both'; path: string; bytes: number }>
  /** The largest file POST /api/uploads takes. */
  maxUploadBytes: number
}

/** POST /api/uploads: what the upload holds now, and the `data` spec a job reads it with. */
export interface UploadView {
  id: string
  files: string[]
  /** `csv:<file>` for a CSV; `idx:<folder>` once the upload holds IDX files. */
  spec: string
  /** Bytes of this file. */
  bytes: number
}
