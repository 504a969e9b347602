// The coordinator's datasets: one import for the types, the loaders and the spec dispatcher.
export { DatasetError, type Dataset, type Split } from './types.ts'
export { builtinDataset, type BuiltinOptions } from './builtin.ts'
export { loadIdx } from './idx.ts'
export { parseIdx, type IdxArray } from './idx-format.ts'
export { loadCsv, type CsvOptions } from './csv.ts'
export { confineSpec, loadDataset, SPEC_FORMS, type LoadOptions } from './load.ts'
export { DataRoots, defaultDataRoots, OUTSIDE_ROOTS, type Confine } from './roots.ts'
