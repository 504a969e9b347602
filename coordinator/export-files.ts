// A model saved as a TF.js Layers folder: model.json and weights.bin side by side, for tf.loadLayersModel.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toTfjsModel } from '../model/export.ts'
import type { ModelPlan } from '../model/plan.ts'

/**
 * Writes dir/model.json and dir/weights.bin (creating dir) and returns their paths. Serve the folder and load it in
 * a browser with `tf.loadLayersModel('https://…/model.json')`.
 *
 * @example
 * const { modelJson } = await saveTfjsModel('out/mnist-mlp', plan, replica.params, { input: 'pixels / 255' })
 * // modelJson === 'out/mnist-mlp/model.json'
 */
export async function saveTfjsModel(
  dir: string,
  plan: ModelPlan,
  arena: Float32Array,
  metadata?: Record<string, unknown>,
): Promise<{ modelJson: string; weights: string }> {
  const { modelJson, weights } = toTfjsModel(plan, arena, { metadata, weightsPath: 'weights.bin' })
  const paths = { modelJson: join(dir, 'model.json'), weights: join(dir, 'weights.bin') }
  await mkdir(dir, { recursive: true })
  await writeFile(paths.weights, weights)
  await writeFile(paths.modelJson, JSON.stringify(modelJson))
  return paths
}
